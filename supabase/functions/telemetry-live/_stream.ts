/**
 * The body of one live stream: frames of a device as Server-Sent Events, read from its Redis
 * stream every `pollMs` (hosted Upstash has no blocking read worth relying on), a heartbeat
 * comment after `heartbeatMs` of silence, and after `seconds` a final `end` event with a retry
 * hint, so the stream fits the platform's wall clock and the client reconnects with Last-Event-ID.
 */
import { type LiveFeed, LiveFeedUnavailable } from "../../../shared/live/live_feed.ts";
import { sseComment, sseEvent } from "../../../shared/live/sse.ts";

export interface LiveTiming {
  pollMs: number;
  heartbeatMs: number;
  /** Reconnect hint given at the start and in `end` and `unavailable` events. */
  retryMs: number;
}

export const DEFAULT_TIMING: LiveTiming = { pollMs: 250, heartbeatMs: 15_000, retryMs: 1_000 };

/** Entries (of up to 50 frames) read per Redis call; a full page is followed at once by the next. */
const PAGE = 20;

export interface LiveStreamRequest {
  deviceId: string;
  flightId: string | null;
  /** The client's Last-Event-ID, already checked to be one of our event ids. */
  lastEventId: string | null;
  seconds: number;
  signal: AbortSignal;
}

/** Streams events until the duration is over, the client leaves or Redis fails. */
export function liveStream(
  feed: LiveFeed,
  request: LiveStreamRequest,
  timing: LiveTiming = DEFAULT_TIMING,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  // Stops the loop when the client leaves (request aborted) or the reader cancels the body.
  const stop = new AbortController();
  request.signal.addEventListener("abort", () => stop.abort(), { once: true });
  const stopped = { ...request, signal: stop.signal };
  return new ReadableStream<Uint8Array>({
    start: async (controller) => {
      let lastWrite = Date.now();
      const write = (text: string) => {
        if (stop.signal.aborted) return;
        controller.enqueue(encoder.encode(text));
        lastWrite = Date.now();
      };
      write(`retry: ${timing.retryMs}\n${sseComment("connected")}`);
      try {
        await pump(feed, stopped, timing, write, () => lastWrite);
      } catch (error) {
        if (!(error instanceof LiveFeedUnavailable)) throw error;
        write(sseEvent({
          event: "unavailable",
          data: JSON.stringify({
            code: "live_feed_unavailable",
            message: "The live feed (Redis) is unavailable; retry later",
          }),
          retry: timing.retryMs * 5,
        }));
      }
      if (!stop.signal.aborted) controller.close();
    },
    cancel: () => stop.abort(),
  });
}

async function pump(
  feed: LiveFeed,
  request: LiveStreamRequest,
  timing: LiveTiming,
  write: (text: string) => void,
  lastWrite: () => number,
): Promise<void> {
  const deadline = Date.now() + request.seconds * 1000;
  let cursor = request.lastEventId ?? await feed.newestId(request.deviceId);
  if (request.lastEventId && await feed.hasGapAfter(request.deviceId, request.lastEventId)) {
    write(sseEvent({
      event: "gap",
      data: JSON.stringify({
        after: request.lastEventId,
        since: new Date(Number(request.lastEventId.split("-")[0])).toISOString(),
        message: "Frames after this id are no longer held by the live feed; " +
          "read them with telemetry-query",
      }),
    }));
  }
  while (Date.now() < deadline && !request.signal.aborted) {
    const entries = await feed.readAfter(request.deviceId, cursor, PAGE);
    for (const entry of entries) {
      if (entry.skipped !== undefined) {
        // The marker's own id: a client that resumes after this event is not told it again.
        write(sseEvent({
          id: entry.id,
          event: "gap",
          data: JSON.stringify({
            after: cursor,
            skipped: entry.skipped,
            message: `${entry.skipped} frames were stored but not sent to the live feed ` +
              "(it was behind); read them with telemetry-query",
          }),
        }));
      }
      for (const frame of entry.frames) {
        if (request.flightId !== null && frame.flightId !== request.flightId) continue;
        write(sseEvent({ id: frame.id, event: "frame", data: frame.data }));
      }
      // The bare entry id: every frame of this entry has been sent (or skipped).
      cursor = entry.id;
    }
    if (entries.length === PAGE) continue;
    if (Date.now() - lastWrite() >= timing.heartbeatMs) write(sseComment("heartbeat"));
    await sleep(Math.min(timing.pollMs, Math.max(0, deadline - Date.now())), request.signal);
  }
  // The cursor as id: a client filtered by flight resumes after the frames it skipped.
  write(sseEvent({
    ...(cursor !== "0-0" ? { id: cursor } : {}),
    event: "end",
    data: JSON.stringify({ reason: "duration", seconds: request.seconds }),
    retry: timing.retryMs,
  }));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
