/**
 * A deadline for reading a request body. A client that trickles its body (a byte now and then)
 * would otherwise keep an isolate busy for as long as it likes; with a deadline on the whole body,
 * not on each chunk, it is cut off after a fixed time of waiting however it paces its bytes.
 */
import { HttpError } from "./http.ts";

/**
 * The 408 a body gets when it has not fully arrived in time. Deno's server closes the connection
 * after it by itself (the body was not read to its end), as RFC 9110 §15.5.9 asks.
 */
export function bodyTimeout(timeoutMs: number): HttpError {
  return new HttpError(
    408,
    "body_timeout",
    `Body did not arrive within ${timeoutMs} ms; send it at once, or in smaller requests`,
    { timeout_ms: timeoutMs },
  );
}

/**
 * Yields the stream's chunks until it ends, or throws once the reads have waited `timeoutMs` in
 * all. Only the time spent waiting for the client's bytes counts, summed over every read, so
 * pacing the bytes never extends it, while the time the caller spends on a chunk between reads
 * (parsing it on a busy isolate) is not charged to the client. On a timeout (or when the caller
 * stops early) the rest of the stream is cancelled, so the connection's body is dropped rather
 * than read on.
 * @throws {HttpError} 408 body_timeout when the stream has not ended in time
 */
export async function* readWithin(
  stream: ReadableStream<Uint8Array>,
  timeoutMs: number,
): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let remainingMs = timeoutMs;
  try {
    while (true) {
      const started = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(bodyTimeout(timeoutMs)), Math.max(0, remainingMs));
      });
      const { done, value } = await Promise.race([reader.read(), expired]).finally(() =>
        clearTimeout(timer)
      );
      remainingMs -= performance.now() - started;
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
