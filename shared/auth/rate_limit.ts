/**
 * Per-device rate limit, counted in Redis per device and minute. To keep Redis off each
 * request's path, an isolate counts its own requests and adds them to Redis once per database
 * call (in the same pipeline that bumps the query-cache generations), learning in return what
 * every isolate has counted. So the limit holds across isolates to within one group of requests.
 *
 * With Redis down, each isolate still limits by its own count: refusing telemetry because a
 * cache is away would lose data, which is worse than letting a burst through elsewhere.
 */
import { cacheKey, type CounterIncrement } from "../platform/cache.ts";
import { HttpError } from "../platform/http.ts";

interface DeviceCount {
  minute: number;
  /** All isolates' requests this minute, as Redis last said, plus ours that Redis has seen. */
  known: number;
  /** Our requests this minute that Redis has not been told of yet. */
  unsynced: number;
}

export interface RateLimiter {
  /**
   * Counts one request of the device.
   * @throws {HttpError} 429 with Retry-After (seconds to the next minute) over the limit
   */
  admit(deviceId: string, now: Date): void;
  /** The counts Redis has not seen yet, to send with `addToCounters`. */
  unsynced(): CounterIncrement[];
  /** Takes Redis's totals for what `unsynced` returned (null when Redis was unreachable). */
  synced(sent: readonly CounterIncrement[], totals: readonly number[] | null): void;
}

const KEY_TTL_SECONDS = 120;

/** The Redis key of a device's counter for one minute. */
export function rateKey(deviceId: string, minute: number): string {
  return cacheKey("rate", deviceId, String(minute));
}

/** Creates a limiter allowing `limitPerMinute` requests per device and minute. */
export function createRateLimiter(limitPerMinute: number): RateLimiter {
  const counts = new Map<string, DeviceCount>();
  const byKey = new Map<string, DeviceCount>();
  let latestMinute = 0;

  return {
    admit(deviceId, now) {
      const minute = Math.floor(now.getTime() / 60_000);
      latestMinute = Math.max(latestMinute, minute);
      let count = counts.get(deviceId);
      if (!count || count.minute !== minute) {
        count = { minute, known: 0, unsynced: 0 };
        counts.set(deviceId, count);
      }
      if (count.known + count.unsynced >= limitPerMinute) {
        const retryAfter = 60 - now.getUTCSeconds();
        throw new HttpError(
          429,
          "rate_limited",
          `Device sent more than ${limitPerMinute} requests this minute; retry in ${retryAfter} s`,
          undefined,
          { "retry-after": String(retryAfter) },
        );
      }
      count.unsynced++;
    },
    unsynced() {
      byKey.clear();
      const increments: CounterIncrement[] = [];
      for (const [deviceId, count] of counts) {
        if (count.unsynced === 0) continue;
        const key = rateKey(deviceId, count.minute);
        byKey.set(key, count);
        increments.push({ key, by: count.unsynced, ttlSeconds: KEY_TTL_SECONDS });
      }
      return increments;
    },
    synced(sent, totals) {
      sent.forEach((increment, i) => {
        const count = byKey.get(increment.key);
        if (!count) return;
        count.unsynced -= increment.by;
        const total = totals?.[i];
        count.known = total === undefined ? count.known + increment.by : total;
      });
      // Forget devices of past minutes so the map does not grow with every device ever seen.
      for (const [deviceId, count] of counts) {
        if (count.minute < latestMinute - 1 && count.unsynced === 0) counts.delete(deviceId);
      }
    },
  };
}
