/**
 * A deadline for reading a request body. A client that trickles its body (a byte now and then)
 * would otherwise keep an isolate busy for as long as it likes; with a deadline on the whole body,
 * not on each chunk, it is cut off after a fixed time however it paces its bytes.
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
 * Yields the stream's chunks until it ends, or throws once `timeoutMs` has passed since the first
 * read. On a timeout (or when the caller stops early) the rest of the stream is cancelled, so the
 * connection's body is dropped rather than read on.
 * @throws {HttpError} 408 body_timeout when the stream has not ended in time
 */
export async function* readWithin(
  stream: ReadableStream<Uint8Array>,
  timeoutMs: number,
): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(bodyTimeout(timeoutMs)), timeoutMs);
  });
  try {
    while (true) {
      const { done, value } = await Promise.race([reader.read(), expired]);
      if (done) return;
      yield value;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}
