/**
 * Per-device rate limit in Redis: a counter per key and minute. With Redis down the limit is not
 * enforced (and the cache logs a warning): refusing telemetry because a cache is away would lose
 * data, which is worse than letting a burst through.
 */
import { type Cache, cacheKey } from "./cache.ts";
import { HttpError } from "./http.ts";

/**
 * Counts one request against `limitPerMinute` for this subject (a device key hash).
 * @throws {HttpError} 429 with Retry-After (seconds to the next minute) when over the limit
 */
export async function enforceRateLimit(
  cache: Cache,
  subject: string,
  limitPerMinute: number,
  now: Date,
): Promise<void> {
  const minute = Math.floor(now.getTime() / 60_000);
  const count = await cache.increment(cacheKey("rate", subject, String(minute)), 120);
  if (count !== null && count > limitPerMinute) {
    const retryAfter = 60 - now.getUTCSeconds();
    throw new HttpError(
      429,
      "rate_limited",
      `Device sent more than ${limitPerMinute} requests this minute; retry in ${retryAfter} s`,
      undefined,
      { "retry-after": String(retryAfter) },
    );
  }
}
