/**
 * The live feed: ingest publishes each device's newest frames to a capped Redis stream per device
 * after they were committed, and telemetry-live reads them from there, so watching a device never
 * polls Postgres. The stream entry id (`<ms>-<seq>`, assigned by Redis) is the event id: it only
 * grows within a device's stream, so `Last-Event-ID` resumes exactly where a client left off.
 *
 * Redis never holds the only copy: a frame missed here is still in Postgres (telemetry-query).
 * Publishing is fire-and-forget; reading throws LiveFeedUnavailable so the stream can say so.
 */
import { Redis } from "@upstash/redis";
import { cacheKey } from "./cache.ts";
import type { Logger } from "./log.ts";

/** Entries a device's stream keeps (about 100 s at 10 Hz); older ones are trimmed. */
export const LIVE_STREAM_MAX_ENTRIES = 1000;
/** A device that stopped sending loses its stream after this long. */
export const LIVE_STREAM_TTL_SECONDS = 3600;
/** One Upstash request carries at most 1 MB: publish in pipelines of about half that. */
const MAX_PIPELINE_CHARS = 500_000;

/** The Redis stream of one device's frames. */
export function liveStreamKey(deviceId: string): string {
  return cacheKey("live", deviceId);
}

/** One published frame: its stream id, flight and JSON text (the frame with the query's names). */
export interface LiveEntry {
  id: string;
  flightId: string | null;
  data: string;
}

/** Frames a request stored for one device, newest last. */
export interface PublishedFrames {
  deviceId: string;
  frames: readonly Record<string, unknown>[];
}

/** Redis could not be read: the stream tells the client to retry. */
export class LiveFeedUnavailable extends Error {
  override readonly name = "LiveFeedUnavailable";
}

export interface LiveFeed {
  /** Publishes stored frames; never throws and never waits for Redis (failures are logged). */
  publish(batches: readonly PublishedFrames[]): void;
  /**
   * Up to `count` entries after `afterId` (exclusive), oldest first.
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
}

/** Parses an event id `<ms>-<seq>`; null when it is not one of ours. */
export function parseEventId(text: string): [bigint, bigint] | null {
  const match = /^(\d{1,15})-(\d{1,15})$/.exec(text);
  return match ? [BigInt(match[1] ?? "0"), BigInt(match[2] ?? "0")] : null;
}

/** Compares two event ids: negative, zero or positive, like a sort comparator. */
export function compareEventIds(a: string, b: string): number {
  const [aMs, aSeq] = parseEventId(a) ?? [0n, 0n];
  const [bMs, bSeq] = parseEventId(b) ?? [0n, 0n];
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
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
 * deserialization is off, so the client hands it over as Redis sent it).
 */
export function streamEntries(reply: unknown): LiveEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((item): LiveEntry[] => {
    if (!Array.isArray(item) || typeof item[0] !== "string" || !Array.isArray(item[1])) return [];
    const fields: unknown[] = item[1];
    const field = (name: string) => {
      for (let at = 0; at < fields.length; at += 2) if (fields[at] === name) return fields[at + 1];
      return undefined;
    };
    const data = field("frame");
    const flight = field("flight");
    if (typeof data !== "string") return [];
    return [{ id: item[0], flightId: typeof flight === "string" && flight ? flight : null, data }];
  });
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

  async function send(batches: readonly PublishedFrames[]): Promise<void> {
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
    for (const { deviceId, frames } of batches) {
      const key = liveStreamKey(deviceId);
      for (const frame of frames.slice(-LIVE_STREAM_MAX_ENTRIES)) {
        const data = JSON.stringify({ device_id: deviceId, ...frame });
        if (chars + data.length > MAX_PIPELINE_CHARS) await flush();
        // The flight beside the frame, so a stream filtered by flight need not parse every frame.
        const flight = typeof frame["flight_id"] === "string" ? frame["flight_id"] : "";
        pipeline.xadd(key, "*", { flight, frame: data }, {
          trim: { type: "MAXLEN", threshold: LIVE_STREAM_MAX_ENTRIES, comparison: "~" },
        });
        chars += data.length;
        commands++;
      }
      pipeline.expire(key, LIVE_STREAM_TTL_SECONDS);
      commands++;
    }
    await flush();
  }

  return {
    publish: (batches) => {
      if (batches.length === 0) return;
      send(batches).catch((error: unknown) => {
        logger.warn("live feed publish failed", {
          error: error instanceof Error ? error.message : String(error),
        });
      });
    },
    readAfter: async (deviceId, afterId, count) => {
      const reply: unknown = await redis
        .xrange(liveStreamKey(deviceId), `(${afterId}`, "+", count)
        .catch(unavailable);
      return streamEntries(reply);
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
      return typeof reply === "string" && parseEventId(reply) !== null &&
        compareEventIds(afterId, reply) < 0;
    },
  };
}

function createDisabledLiveFeed(): LiveFeed {
  const down = () => Promise.reject(new LiveFeedUnavailable("Redis is not configured"));
  return { publish: () => {}, readAfter: down, newestId: down, hasGapAfter: down };
}
