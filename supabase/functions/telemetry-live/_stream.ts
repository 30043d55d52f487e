/**
 * The body of one live stream: frames of a device as Server-Sent Events, read from its Redis
 * stream every `pollMs` (hosted Upstash has no blocking read worth relying on), a heartbeat
 * comment after `heartbeatMs` of silence, and after `seconds` a final `end` event with a retry
 * hint, so the stream fits the platform's wall clock and the client reconnects with Last-Event-ID.
 */
import {
  LIVE_WATCH_RENEW_MS,
  type LiveFeed,
  LiveFeedUnavailable,
  parseEventId,
} from "../../../shared/live/live_feed.ts";
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
  // Marked before the newest id is read: ingest publishes the device's frames from its next
  // round trip on (shared/live/live_feed.ts liveWatchKey).
  let watchedSince = await feed.watch(request.deviceId);
  let watchRenewed = Date.now();
  let cursor = request.lastEventId ?? await feed.newestId(request.deviceId);
  /** When an event id's entry was added, in ms by Redis's clock (its first part). */
  const addedAt = (id: string) => Number(parseEventId(id)?.entry[0] ?? 0n);
  const gap = (after: string, message: string) =>
    write(sseEvent({
      event: "gap",
      data: JSON.stringify({ after, since: new Date(addedAt(after)).toISOString(), message }),
    }));
  // A watch that began after the id: no one watched the device for a while since, and ingest
  // published nothing of it then.
  if (
    request.lastEventId &&
    (watchedSince > addedAt(request.lastEventId) ||
      await feed.hasGapAfter(request.deviceId, request.lastEventId))
  ) {
    gap(
      request.lastEventId,
      "Frames after this id are no longer held by the live feed, or were not published to it; " +
        "read them with telemetry-query",
    );
  }
  while (Date.now() < deadline && !request.signal.aborted) {
    if (Date.now() - watchRenewed >= LIVE_WATCH_RENEW_MS) {
      const since = await feed.watch(request.deviceId);
      watchRenewed = Date.now();
      // The mark lapsed meanwhile (Redis stalled, or evicted it): frames may be missing.
      if (since !== watchedSince) {
        gap(
          cursor,
          "The live feed stopped publishing this device for a while after this id; " +
            "read its frames with telemetry-query",
        );
      }
      watchedSince = since;
    }
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
              "(it was behind, or no one watched the device yet when they came); " +
              "read them with telemetry-query",
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
