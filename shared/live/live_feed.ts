/**
 * The live feed: ingest publishes each watched device's newest frames to a capped Redis stream per
 * device after they were committed, and telemetry-live reads them from there, so watching a device
 * never polls Postgres. One stream entry holds a chunk of one request's frames (at most
 * LIVE_ENTRY_MAX_FRAMES, newest last), so Redis work is per request, not per frame.
 *
 * An event id is `<entry id>/<index in entry>` (the entry id `<ms>-<seq>` is assigned by Redis and
 * only grows within a device's stream), so ids are monotonic per device and `Last-Event-ID`
 * resumes after exactly that frame. A bare entry id (what `end` events carry, and every id before
 * entries held chunks) means "after the whole entry".
 *
 * Redis never holds the only copy: a frame missed here is still in Postgres (telemetry-query).
 * Publishing is fire-and-forget; reading throws LiveFeedUnavailable so the stream can say so.
 */
import { Redis } from "@upstash/redis";
import { cacheKey } from "../platform/cache.ts";
import type { Logger } from "../platform/log.ts";
import { createPublishQueue, type QueuedEntries } from "./publish_queue.ts";

/** Frames per stream entry: an entry stays small (about 36 kB at 25 fields). */
export const LIVE_ENTRY_MAX_FRAMES = 50;
/** How long frames stay in a device's stream (the old window: 1,000 frames at 10 Hz). */
export const LIVE_STREAM_WINDOW_MS = 100_000;
/** Entries a device's stream keeps at most, whatever its rate: bounds memory for bursts. */
export const LIVE_STREAM_MAX_ENTRIES = 1000;
/**
 * Frames a device's stream keeps, about, when it sends batches (Redis memory budget, README):
 * 1,000 entries of 50 frames would be some 36 MB per device at 25 fields; this is about 1.5 MB.
 * The 100 s window keeps fewer for any device under 20 frames/s.
 */
export const LIVE_STREAM_MAX_FRAMES = 2000;
/** A request publishes at most its newest frames (a backlog upload is not live). */
export const LIVE_MAX_FRAMES_PER_REQUEST = 1000;
/**
 * ... and at most this many characters of their lines (`raw_data`): about 40 frames of 80 fields,
 * 115 of 25. A request holds its live frames from parse until they are published, and each costs
 * CPU to publish: its JSON, then the Upstash client's JSON of the pipeline, then its UTF-8. With
 * 256K characters (about 160 frames of 80 fields) that was a fifth of the CPU of a 500-frame
 * 80-field request (deno --cpu-prof; 160 frames in process: 4.2 ms of JSON, 2.3 ms of pipeline
 * JSON, 1.3 ms of UTF-8); with 64K such a request took 44-51 ms of the function's thread instead
 * of 58-64 (README, Hosted limits). A body that size is a backlog (at 10 Hz, 500 frames are 50 s
 * of flight): its newest frames are what is live, and all of it is in Postgres.
 */
export const LIVE_MAX_LINE_CHARS_PER_REQUEST = 64 * 1024;
/**
 * A stream's chunk (about a second of lines) is live as a whole: it keeps the old cap, so a
 * 100 Hz stream of 80 fields (about 160K characters a second) publishes every frame.
 */
export const LIVE_MAX_LINE_CHARS_PER_STREAM_CHUNK = 256 * 1024;
/** A device that stopped sending loses its stream after this long. */
export const LIVE_STREAM_TTL_SECONDS = 3600;
/** One Upstash request carries at most 1 MB: publish in pipelines of about half that. */
const MAX_PIPELINE_CHARS = 500_000;
/**
 * Entry characters an isolate lets wait behind the publish in flight (shared/live/publish_queue.ts):
 * two pipelines' worth. Past it the oldest waiting frames are not published.
 */
const MAX_WAITING_CHARS = 2 * MAX_PIPELINE_CHARS;

/** The Redis stream of one device's frames. */
export function liveStreamKey(deviceId: string): string {
  return cacheKey("live", deviceId);
}

/**
 * Ingest publishes a device's frames only while someone watches it: telemetry-live holds this
 * mark (its value: when, by Redis's clock in ms, the device's watch began) and renews it every
 * LIVE_WATCH_RENEW_MS while a stream is open; ingest reads the marks of the devices it stored in
 * the Redis round trip it makes anyway. A 100 Hz stream spent a sixth of its CPU publishing
 * (README, Hosted limits), and almost every device is watched by no one. A watch that began after
 * a viewer's Last-Event-ID means frames may have gone unpublished in between: the viewer gets a
 * `gap` (telemetry-live).
 */
export function liveWatchKey(deviceId: string): string {
  return cacheKey("live-watch", deviceId);
}

/** How long a watch mark outlives its last renewal (a viewer that left stops costing then). */
export const LIVE_WATCH_TTL_MS = 30_000;
/** How often an open stream renews its mark. */
export const LIVE_WATCH_RENEW_MS = 10_000;

/**
 * Sets the watch mark unless it is there (with Redis's clock, the one stream ids use), renews its
 * TTL, and returns its value: when the current watch began.
 */
const WATCH = `
local now = redis.call('TIME')
redis.call('SET', KEYS[1], string.format('%d', now[1] * 1000 + math.floor(now[2] / 1000)), 'NX')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('GET', KEYS[1])
`;

/** One frame as an event: its event id, flight and JSON text (the frame with the query's names). */
export interface LiveFrame {
  id: string;
  flightId: string | null;
  data: string;
}

/**
 * One stream entry: its Redis id and its frames, oldest first; or a marker that `skipped` frames
 * of the device were not published here (the isolate's publishing was behind Redis), with none.
 */
export interface LiveEntry {
  id: string;
  frames: LiveFrame[];
  skipped?: number;
}

/**
 * Frames a request stored for one device, newest last: as rows, or already as their stream
 * entries (liveEntries), which a request waiting for its group holds in a fraction of the
 * memory of its rows; or how many it stored without entries (the device was not watched when
 * they were parsed, but is now): its viewers get a `gap` for them.
 */
export type PublishedFrames =
  | { deviceId: string; frames: readonly Record<string, unknown>[] }
  | { deviceId: string; entries: readonly EntryFields[] }
  | { deviceId: string; unpublished: number };

/**
 * A request's newest frames as they are parsed, within LIVE_MAX_FRAMES_PER_REQUEST and
 * `maxLineChars` characters of lines (the newest frame is always kept).
 */
export interface LiveWindow {
  add(rows: readonly { "raw_data": string }[]): void;
  /** The window's stream entries; the window is empty after. */
  take(deviceId: string): EntryFields[];
}

export function createLiveWindow(maxLineChars: number): LiveWindow {
  let rows: { "raw_data": string }[] = [];
  let chars = 0;
  return {
    add(added) {
      for (const row of added.slice(-LIVE_MAX_FRAMES_PER_REQUEST)) {
        rows.push(row);
        chars += row.raw_data.length;
      }
      let drop = 0;
      while (
        rows.length - drop > LIVE_MAX_FRAMES_PER_REQUEST ||
        (chars > maxLineChars && rows.length - drop > 1)
      ) {
        chars -= rows[drop]?.raw_data.length ?? 0;
        drop++;
      }
      if (drop > 0) rows = rows.slice(drop);
    },
    take(deviceId) {
      const entries = chunkFrames(deviceId, rows);
      rows = [];
      chars = 0;
      return entries;
    },
  };
}

/** The stream entries a request publishes: its newest frames, LIVE_ENTRY_MAX_FRAMES an entry. */
export function liveEntries(
  deviceId: string,
  frames: readonly Record<string, unknown>[],
): EntryFields[] {
  return chunkFrames(deviceId, frames.slice(-LIVE_MAX_FRAMES_PER_REQUEST));
}

/** Redis could not be read: the stream tells the client to retry. */
export class LiveFeedUnavailable extends Error {
  override readonly name = "LiveFeedUnavailable";
}

export interface LiveFeed {
  /**
   * Publishes stored frames; never throws and never waits for Redis (failures are logged). One
   * publish is sent at a time; when Redis falls behind, the oldest waiting frames are dropped.
   */
  publish(batches: readonly PublishedFrames[]): void;
  /**
   * Up to `count` entries after the event id `afterId` (exclusive), oldest first; the entry it
   * points into comes back with only its frames after it.
   * @throws {LiveFeedUnavailable}
   */
  readAfter(deviceId: string, afterId: string, count: number): Promise<LiveEntry[]>;
  /**
   * The id of the newest entry ("0-0" when there is none): where a new stream starts.
   * @throws {LiveFeedUnavailable}
   */
  newestId(deviceId: string): Promise<string>;
  /**
   * Whether entries after `afterId` were trimmed or expired, so a resume from it has a gap.
   * @throws {LiveFeedUnavailable}
   */
  hasGapAfter(deviceId: string, afterId: string): Promise<boolean>;
  /**
   * Marks the device as watched for LIVE_WATCH_TTL_MS (renewing the mark when it is there).
   * @returns when the current watch began, in ms by Redis's clock (entry ids use the same)
   * @throws {LiveFeedUnavailable}
   */
  watch(deviceId: string): Promise<number>;
}

/** A parsed event id: the entry's `[ms, seq]`, and the frame's index (null: the whole entry). */
export interface EventId {
  entry: [bigint, bigint];
  entryId: string;
  index: number | null;
}

/** Parses an event id `<ms>-<seq>[/<index>]`; null when it is not one of ours. */
export function parseEventId(text: string): EventId | null {
  const match = /^((\d{1,15})-(\d{1,15}))(?:\/(\d{1,4}))?$/.exec(text);
  if (!match) return null;
  return {
    entry: [BigInt(match[2] ?? "0"), BigInt(match[3] ?? "0")],
    entryId: match[1] ?? "0-0",
    index: match[4] === undefined ? null : Number(match[4]),
  };
}

/**
 * Compares two event ids like a sort comparator: by entry, then index, a bare entry id (the
 * whole entry) after all of its frames.
 */
export function compareEventIds(a: string, b: string): number {
  const none: EventId = { entry: [0n, 0n], entryId: "0-0", index: null };
  const x = parseEventId(a) ?? none;
  const y = parseEventId(b) ?? none;
  for (let part = 0; part < 2; part++) {
    const [p, q] = [x.entry[part] ?? 0n, y.entry[part] ?? 0n];
    if (p !== q) return p < q ? -1 : 1;
  }
  const [i, j] = [x.index ?? Infinity, y.index ?? Infinity];
  return i === j ? 0 : i < j ? -1 : 1;
}

/** One entry's fields: its frames' JSON texts, one a line, and their flights as a JSON array. */
export interface EntryFields {
  frames: string;
  flights: string;
}

/**
 * A frame's JSON with its device_id first and without raw_data: the frame's own JSON with
 * `idField` put in front of its keys (spreading the frame into a new object with the id first
 * copied every value once more). raw_data, the device's own line, is left out: it doubled each
 * event, and escaping it twice (its JSON here, then the Upstash pipeline's) made the live feed
 * cost 8-10 µs a 25-field frame instead of 4 (100 frames in process, under the function host's
 * flag of then, --optimize-for-size). A viewer reads it, with every stored frame, from
 * telemetry-query. A frame that carries its own device_id (none does: rows have no such column)
 * gets the spread, whose key wins.
 */
function frameJson(deviceId: string, idField: string, frame: Record<string, unknown>): string {
  const { raw_data: _line, ...fields } = frame;
  if ("device_id" in fields) return JSON.stringify({ device_id: deviceId, ...fields });
  const own = JSON.stringify(fields);
  return own === "{}" ? `{${idField}}` : `{${idField},${own.slice(1)}`;
}

/**
 * A request's frames for one device as stream entries of at most `size` frames, newest last.
 * Frames are joined with newlines: JSON text never holds a raw newline, so a reader splits them
 * without parsing.
 */
export function chunkFrames(
  deviceId: string,
  frames: readonly Record<string, unknown>[],
  size: number = LIVE_ENTRY_MAX_FRAMES,
): EntryFields[] {
  const chunks: EntryFields[] = [];
  const idField = `"device_id":${JSON.stringify(deviceId)}`;
  for (let start = 0; start < frames.length; start += size) {
    const chunk = frames.slice(start, start + size);
    chunks.push({
      frames: chunk.map((frame) => frameJson(deviceId, idField, frame)).join("\n"),
      // The flights beside the frames, so a stream filtered by flight need not parse them.
      flights: JSON.stringify(
        chunk.map((frame) => typeof frame["flight_id"] === "string" ? frame["flight_id"] : null),
      ),
    });
  }
  return chunks;
}

/**
 * The oldest id a stream still holds when older entries were trimmed, '' when none ever were,
 * or 'missing' when the stream does not exist. XINFO STREAM's entries-added counts every entry
 * ever added; more than its length means trimming. A script: the client has no XINFO STREAM.
 */
const OLDEST_AFTER_TRIM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local added, length = 0, 0
for i = 1, #info, 2 do
  if info[i] == 'entries-added' then added = info[i + 1] end
  if info[i] == 'length' then length = info[i + 1] end
end
if added <= length then return '' end
return redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]
`;

/**
 * Entries from a raw XRANGE reply, `[[id, [field, value, ...]], ...]` (automatic
 * deserialization is off, so the client hands it over as Redis sent it), each frame with its
 * event id `<entry id>/<index>`, and the markers of frames not published (`skipped`). Other
 * entries without frames are left out.
 */
export function streamEntries(reply: unknown): LiveEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((item): LiveEntry[] => {
    if (!Array.isArray(item) || typeof item[0] !== "string" || !Array.isArray(item[1])) return [];
    const id: string = item[0];
    const fields: unknown[] = item[1];
    const field = (name: string) => {
      for (let at = 0; at < fields.length; at += 2) if (fields[at] === name) return fields[at + 1];
      return undefined;
    };
    const skipped = Number(field("skipped"));
    if (Number.isSafeInteger(skipped) && skipped > 0) return [{ id, frames: [], skipped }];
    const frames = field("frames");
    if (typeof frames !== "string" || frames === "") return [];
    const flights = parseFlights(field("flights"));
    return [{
      id,
      frames: frames.split("\n").map((data, index) => {
        const flight = flights[index];
        return { id: `${id}/${index}`, flightId: typeof flight === "string" ? flight : null, data };
      }),
    }];
  });
}

function parseFlights(text: unknown): unknown[] {
  if (typeof text !== "string") return [];
  try {
    const flights: unknown = JSON.parse(text);
    return Array.isArray(flights) ? flights : [];
  } catch {
    return [];
  }
}

/** A LiveFeed on Upstash Redis; a disabled one (always unavailable) when Redis is not set. */
export function createLiveFeed(
  options: { url: string; token: string } | null,
  logger: Logger,
): LiveFeed {
  if (!options) return createDisabledLiveFeed();
  const redis = new Redis({
    url: options.url,
    token: options.token,
    automaticDeserialization: false,
    retry: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(1_000),
  });
  const unavailable = (error: unknown): never => {
    throw new LiveFeedUnavailable(error instanceof Error ? error.message : String(error));
  };

  async function send(batches: readonly QueuedEntries[]) {
    let pipeline = redis.pipeline();
    let chars = 0;
    let commands = 0;
    // Pipelines go one after another, so each device's entries keep their order.
    const flush = async () => {
      if (commands > 0) await pipeline.exec();
      pipeline = redis.pipeline();
      chars = 0;
      commands = 0;
    };
    for (const batch of batches) {
      const { deviceId, entries } = batch;
      const key = liveStreamKey(deviceId);
      // Frames in a full entry (the first: entries are filled in order), for the MAXLEN below.
      const framesPerEntry = Math.max(1, entries[0]?.frames.split("\n").length ?? 1);
      // Before the device's next frames: its viewers get a `gap` event where frames are missing.
      if (batch.skipped !== undefined) {
        pipeline.xadd(key, "*", { skipped: String(batch.skipped) }, {
          trim: { type: "MAXLEN", threshold: LIVE_STREAM_MAX_ENTRIES, comparison: "~" },
        });
        commands++;
      }
      for (const entry of entries) {
        const size = entry.frames.length + entry.flights.length;
        if (chars + size > MAX_PIPELINE_CHARS) await flush();
        // Entries of many frames are capped by frames. "~" trims only whole nodes of 100
        // entries, which would never trim a short stream: those caps are exact.
        const threshold = Math.min(
          LIVE_STREAM_MAX_ENTRIES,
          Math.ceil(LIVE_STREAM_MAX_FRAMES / framesPerEntry),
        );
        pipeline.xadd(key, "*", { frames: entry.frames, flights: entry.flights }, {
          trim: {
            type: "MAXLEN",
            threshold,
            comparison: threshold < LIVE_STREAM_MAX_ENTRIES ? "=" : "~",
          },
        });
        chars += size;
        commands++;
      }
      // MAXLEN counts entries, not frames: a device sending batches would keep far more than
      // the window, so its stream is also trimmed by time (ids start with Redis's clock in ms).
      // Exact ("~" drops only whole nodes of 100 entries: a slow stream would keep them all);
      // once per request, so it stays cheap. A one-frame request adds one frame per entry,
      // which MAXLEN alone already bounds to the window at 10 Hz.
      if (entries.length > 1 || (entries[0]?.frames.includes("\n") ?? false)) {
        pipeline.xtrim(key, {
          strategy: "MINID",
          exactness: "=",
          threshold: `${Date.now() - LIVE_STREAM_WINDOW_MS}`,
        });
        commands++;
      }
      pipeline.expire(key, LIVE_STREAM_TTL_SECONDS);
      commands++;
    }
    await flush();
  }

  const queue = createPublishQueue({
    send,
    maxWaitingChars: MAX_WAITING_CHARS,
    onDrop: (dropped) =>
      logger.warn("live feed behind Redis: older frames not published", {
        frames: dropped.frames,
        devices: dropped.devices,
      }),
    onError: (error) =>
      logger.warn("live feed publish failed", {
        error: error instanceof Error ? error.message : String(error),
      }),
  });

  return {
    publish: (batches) => {
      queue.push(batches.map((batch) => {
        if ("unpublished" in batch) {
          return { deviceId: batch.deviceId, entries: [], skipped: batch.unpublished };
        }
        return {
          deviceId: batch.deviceId,
          entries: "entries" in batch ? batch.entries : liveEntries(batch.deviceId, batch.frames),
        };
      }));
    },
    readAfter: async (deviceId, afterId, count) => {
      const after = parseEventId(afterId);
      if (!after) throw new RangeError(`Cannot read after "${afterId}": not an event id`);
      // After a frame, its entry is read again (inclusive) and its earlier frames dropped.
      const start = after.index === null ? `(${after.entryId}` : after.entryId;
      const reply: unknown = await redis
        .xrange(liveStreamKey(deviceId), start, "+", count)
        .catch(unavailable);
      return streamEntries(reply).flatMap((entry): LiveEntry[] => {
        if (entry.id !== after.entryId || after.index === null) return [entry];
        const rest = entry.frames.slice(after.index + 1);
        return rest.length > 0 ? [{ id: entry.id, frames: rest }] : [];
      });
    },
    newestId: async (deviceId) => {
      const reply: unknown = await redis
        .xrevrange(liveStreamKey(deviceId), "+", "-", 1)
        .catch(unavailable);
      return streamEntries(reply)[0]?.id ?? "0-0";
    },
    hasGapAfter: async (deviceId, afterId) => {
      const reply: unknown = await redis
        .eval(OLDEST_AFTER_TRIM, [liveStreamKey(deviceId)], [])
        .catch(unavailable);
      // A missing stream (expired, or Redis restarted) cannot prove that nothing was lost.
      if (reply === "missing") return true;
      // Only the entry counts: a frame inside the oldest entry still held resumes without a gap.
      const entryId = parseEventId(afterId)?.entryId ?? "0-0";
      return typeof reply === "string" && parseEventId(reply) !== null &&
        compareEventIds(entryId, reply) < 0;
    },
    watch: async (deviceId) => {
      const reply: unknown = await redis
        .eval(WATCH, [liveWatchKey(deviceId)], [String(LIVE_WATCH_TTL_MS)])
        .catch(unavailable);
      const since = Number(reply);
      if (!Number.isSafeInteger(since)) unavailable(`watch mark reads ${String(reply)}`);
      return since;
    },
  };
}

function createDisabledLiveFeed(): LiveFeed {
  const down = () => Promise.reject(new LiveFeedUnavailable("Redis is not configured"));
  return { publish: () => {}, readAfter: down, newestId: down, hasGapAfter: down, watch: down };
}
