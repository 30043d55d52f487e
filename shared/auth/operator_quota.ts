/**
 * Per-operator quotas (issue 21 §4): reads per minute (telemetry-query, telemetry-analytics) and
 * live streams open at once (telemetry-live), each refused with 429 and Retry-After. They apply
 * to user JWTs; service role is the platform itself and is not limited.
 *
 * Reads are counted like device requests (shared/auth/rate_limit.ts): in the isolate, added to
 * Redis after each answer. Live streams take a slot in a per-user sorted set in Redis, scored by
 * when the stream must have ended, so a stream whose isolate died frees its slot then. With
 * Redis down, reads are limited per isolate and streams are not limited (they cannot run without
 * Redis anyway: they answer `unavailable` at once).
 */
import { type Cache, cacheKey } from "../platform/cache.ts";
import { HttpError } from "../platform/http.ts";
import type { Caller } from "./operator_auth.ts";
import { createQuotaLimiter, type RateLimiter, syncInBackground } from "./rate_limit.ts";

/** Room given to a stream past its duration before its slot lapses on its own. */
const SLOT_GRACE_SECONDS = 30;

/** An isolate's limiter of operator reads. */
export function createReadLimiter(perMinute: number): RateLimiter {
  return createQuotaLimiter({
    queries: {
      perMinute,
      code: "query_rate_limited",
      message: (limit, retry) =>
        `Operator made more than ${limit} queries this minute; retry in ${retry} s`,
    },
  });
}

/**
 * Counts one read of the caller (service role: not counted) and returns the work that adds it
 * to Redis, to run after the answer.
 * @throws {HttpError} 429 with Retry-After over OPERATOR_QUERIES_PER_MINUTE
 */
export function admitRead(
  limiter: RateLimiter,
  cache: Cache,
  caller: Caller,
  now: Date,
): () => Promise<void> {
  if (caller.role !== "authenticated") return () => Promise.resolve();
  limiter.admit(caller.userId, now, { queries: 1 });
  return () => syncInBackground(limiter, cache);
}

/** The sorted set of a user's open live streams. */
export function liveSlotsKey(userId: string): string {
  return cacheKey("live-slots", userId);
}

/**
 * Takes one of the caller's live-stream slots for `seconds`.
 * @returns what gives the slot back when the stream ends
 * @throws {HttpError} 429 with Retry-After (when the soonest slot lapses) over the cap
 */
export async function openLiveSlot(
  cache: Cache,
  caller: Caller,
  cap: number,
  now: Date,
  seconds: number,
): Promise<() => Promise<void>> {
  if (caller.role !== "authenticated") return () => Promise.resolve();
  const key = liveSlotsKey(caller.userId);
  const member = crypto.randomUUID();
  const nowMs = now.getTime();
  const slot = await cache.acquireSlot(
    key,
    member,
    cap,
    nowMs,
    nowMs + (seconds + SLOT_GRACE_SECONDS) * 1000,
  );
  if (slot && !slot.acquired) {
    const retryAfter = Math.max(1, Math.ceil((slot.freeAtMs - nowMs) / 1000));
    throw new HttpError(
      429,
      "live_stream_limit",
      `Operator has ${cap} live streams open already; close one or retry in ${retryAfter} s`,
      { limit: cap },
      { "retry-after": String(retryAfter) },
    );
  }
  return () => cache.releaseSlot(key, member);
}

/** The same stream, calling `ended` once when it closes, fails or its reader cancels it. */
export function onStreamEnd(
  body: ReadableStream<Uint8Array>,
  ended: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    ended();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          end();
          controller.close();
        } else {
          controller.enqueue(next.value);
        }
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
}
