/**
 * Streaming for a device that sends frames as they happen: one `telemetry-parse?stream=true`
 * request at a time, each frame an NDJSON line; the lines that came since the last write are written
 * together, at most every `writeIntervalMs`. The function ends a request at its time, line or CPU
 * limit (`stream.ended`: time_limit, line_limit, cpu_limit) with a normal answer saying how many
 * lines it read (`stream.lines`, every one of them stored) and the newest recorded_at it stored
 * (`stream.resume_after`). The streamer then opens the next request and writes again every line
 * after those, so nothing is lost and nothing is sent twice. A failed
 * request (network, 5xx) is retried with all its lines: re-sent frames are dropped by the API's
 * (device_id, recorded_at) key, so give every frame its own `ts`.
 *
 * @module
 */
import { backoffMs, type Frame, parseRetryAfter } from "./send.ts";

export interface StreamOptions {
  /** e.g. https://<ref>.supabase.co/functions/v1 */
  readonly functionsUrl: string;
  readonly deviceKey: string;
  /** The longest request (the API's `max_seconds`; its own limit when absent). */
  readonly maxSeconds?: number;
  /** CPU the API may spend on one request (its `max_cpu_ms`; its own budget when absent). */
  readonly maxCpuMs?: number;
  /**
   * The least time between two writes of the body, in ms (default 1000; 0 writes each frame as it
   * comes). Each write is one read of the body for the function, which costs it about half a
   * millisecond of CPU however little it holds: a 100 Hz device writing every frame cost 680-695 µs
   * of the function's thread per frame, writing every 100 ms 152-157, every second 55-85 (README,
   * Device client and Hosted limits). Frames are stored about a second at a time anyway, so a
   * reader sees them at most a second later than with writes every 100 ms.
   */
  readonly writeIntervalMs?: number;
  readonly fetch?: typeof fetch;
}

export interface StreamStats {
  requests: number;
  accepted: number;
  rejected: number;
  /** Why each request ended, in order (`error` for a failed one). */
  ends: string[];
}

/** See StreamOptions.writeIntervalMs. */
export const DEFAULT_WRITE_INTERVAL_MS = 1000;

interface StreamAnswer {
  accepted: number;
  rejected: number;
  stream: { lines: number; ended: string; "resume_after": string | null };
}

/** Sends the frames as they come on streaming requests until the source ends and all is stored. */
export async function streamFrames(
  source: AsyncIterable<Frame>,
  options: StreamOptions,
): Promise<StreamStats> {
  const stats: StreamStats = { requests: 0, accepted: 0, rejected: 0, ends: [] };
  const doFetch = options.fetch ?? fetch;
  /** Lines not yet written on a request, oldest first. */
  let queue: string[] = [];
  let sourceDone = false;
  let wake: () => void = () => {};
  let woken = new Promise<void>((resolve) => wake = resolve);
  const notify = () => {
    wake();
    woken = new Promise<void>((resolve) => wake = resolve);
  };
  const producing = (async () => {
    for await (const frame of source) {
      queue.push(JSON.stringify(frame) + "\n");
      notify();
    }
    sourceDone = true;
    notify();
  })();

  const params = new URLSearchParams({ stream: "true" });
  if (options.maxSeconds !== undefined) params.set("max_seconds", String(options.maxSeconds));
  if (options.maxCpuMs !== undefined) params.set("max_cpu_ms", String(options.maxCpuMs));
  const url = `${options.functionsUrl}/telemetry-parse?${params}`;
  let failures = 0;
  const writeIntervalMs = options.writeIntervalMs ?? DEFAULT_WRITE_INTERVAL_MS;

  while (!sourceDone || queue.length > 0) {
    if (queue.length === 0) {
      await woken;
      continue;
    }
    /** Lines written on this request, in order. */
    const written: string[] = [];
    let open = true;
    /** When this request's body was last written to (its first write goes at once). */
    let lastWriteAt = -Infinity;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        while (open && queue.length === 0 && !sourceDone) await woken;
        // Lines that come meanwhile go in the same write.
        const wait = lastWriteAt + writeIntervalMs - Date.now();
        if (open && !sourceDone && wait > 0) {
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
        if (!open || queue.length === 0) {
          controller.close();
          return;
        }
        const lines = queue;
        queue = [];
        written.push(...lines);
        lastWriteAt = Date.now();
        controller.enqueue(new TextEncoder().encode(lines.join("")));
      },
      cancel() {
        open = false;
      },
    });
    stats.requests++;
    let answer: StreamAnswer | null = null;
    let retryAfterSeconds: number | null = null;
    try {
      const response = await doFetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${options.deviceKey}`,
          "content-type": "application/x-ndjson",
        },
        body,
      });
      open = false;
      notify();
      if (response.ok) answer = await response.json() as StreamAnswer;
      else {
        retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
        const text = await response.text();
        if (response.status < 500 && response.status !== 429) {
          throw new Error(`telemetry-parse answered ${response.status}: ${text.slice(0, 300)}`);
        }
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("telemetry-parse answered")) {
        throw error;
      }
      // a network error: retried below with every line of the request
    } finally {
      open = false;
      notify();
    }
    if (answer) {
      failures = 0;
      stats.accepted += answer.accepted;
      stats.rejected += answer.rejected;
      stats.ends.push(answer.stream.ended);
      // The API read (and stored) the first `lines` lines; the rest are written again.
      queue = [...written.slice(answer.stream.lines), ...queue];
    } else {
      stats.ends.push("error");
      queue = [...written, ...queue];
      const waitMs = backoffMs(++failures, retryAfterSeconds, {
        baseMs: 500,
        maxMs: 30_000,
        random: Math.random,
      });
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
  await producing;
  return stats;
}
