import { assertEquals, assertThrows } from "@std/assert";
import { createMemoryCache } from "../platform/cache.ts";
import { HttpError } from "../platform/http.ts";
import {
  createQuotaLimiter,
  deviceQuotas,
  limitsField,
  limitsHashKey,
  type RateLimiter,
  syncInBackground,
} from "./rate_limit.ts";

const MINUTE = Date.parse("2026-11-26T12:00:00.000Z");
const MINUTE_NUMBER = Math.floor(MINUTE / 60_000);
const at = (ms: number) => new Date(ms);

/** A device limiter with `requests` per minute and generous frame and byte quotas. */
function requestLimiter(requests: number): RateLimiter {
  return createQuotaLimiter(
    deviceQuotas({ ratePerMinute: requests, framesPerSecond: 1_000, bytesPerSecond: 1_000_000 }),
  );
}

Deno.test("createQuotaLimiter allows up to the request limit and answers 429 with Retry-After after", () => {
  const limiter = requestLimiter(3);
  for (let i = 0; i < 3; i++) limiter.admit("device-1", at(MINUTE + 15_000), { requests: 1 });
  const error = assertThrows(
    () => limiter.admit("device-1", at(MINUTE + 15_000), { requests: 1 }),
    HttpError,
  );
  assertEquals([error.status, error.code, error.headers], [429, "rate_limited", {
    "retry-after": "45",
  }]);
  assertEquals(error.message, "Device sent more than 3 requests this minute; retry in 45 s");
  assertEquals(error.details, { limit: 3, used: 3, requested: 1, window_s: 60 });
});

Deno.test("createQuotaLimiter allows again when the next minute starts", () => {
  const limiter = requestLimiter(1);
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  assertThrows(() => limiter.admit("device-1", at(MINUTE + 59_999), { requests: 1 }), HttpError);
  limiter.admit("device-1", at(MINUTE + 60_000), { requests: 1 });
});

Deno.test("createQuotaLimiter counts each subject apart", () => {
  const limiter = requestLimiter(1);
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  limiter.admit("device-2", at(MINUTE), { requests: 1 });
  assertThrows(() => limiter.admit("device-1", at(MINUTE), { requests: 1 }), HttpError);
});

Deno.test("createQuotaLimiter refuses frames that would pass the frame quota and counts none of them", () => {
  // 2 frames/s is 120 frames per minute.
  const limiter = createQuotaLimiter(
    deviceQuotas({ ratePerMinute: 100, framesPerSecond: 2, bytesPerSecond: 1_000_000 }),
  );
  limiter.admit("device-1", at(MINUTE), { frames: 100 });
  const error = assertThrows(
    () => limiter.admit("device-1", at(MINUTE + 1_000), { frames: 21 }),
    HttpError,
  );
  assertEquals([error.status, error.code, error.headers], [429, "frame_quota_exceeded", {
    "retry-after": "59",
  }]);
  assertEquals(error.details, { limit: 120, used: 100, requested: 21, window_s: 60 });
  limiter.admit("device-1", at(MINUTE + 1_000), { frames: 20 });
  // At the quota, a new request is refused before it carries anything.
  assertThrows(
    () => limiter.admit("device-1", at(MINUTE), { requests: 1, frames: 0 }),
    HttpError,
  );
  // Meters left out of the amounts are not looked at.
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
});

Deno.test("createQuotaLimiter check refuses a body's declared bytes without counting them", () => {
  const limiter = createQuotaLimiter(
    deviceQuotas({ ratePerMinute: 100, framesPerSecond: 100, bytesPerSecond: 10 }),
  );
  const error = assertThrows(
    () => limiter.check("device-1", at(MINUTE), { bytes: 601 }),
    HttpError,
  );
  assertEquals(error.code, "byte_quota_exceeded");
  limiter.check("device-1", at(MINUTE), { bytes: 600 });
  assertEquals(limiter.unsynced(), []);
});

Deno.test("createQuotaLimiter sends only unsynced counts, per meter, and learns other isolates' totals", async () => {
  const cache = createMemoryCache(() => MINUTE);
  const limiter = requestLimiter(5);
  limiter.admit("device-1", at(MINUTE), { requests: 1, frames: 10 });
  limiter.admit("device-1", at(MINUTE), { requests: 1, frames: 0 });
  const hash = limitsHashKey(MINUTE_NUMBER);
  // Another isolate has already counted three requests of this device.
  await cache.addToCounters([{ hash, field: limitsField("requests", "device-1"), by: 3 }], []);
  const sent = limiter.unsynced();
  assertEquals(sent, [
    { hash, field: "requests:device-1", by: 2 },
    { hash, field: "frames:device-1", by: 10 },
  ]);
  limiter.synced(sent, await cache.addToCounters(sent, [], limiter.expired()));
  assertEquals(limiter.unsynced(), []);
  // Redis says 5 in all: the next request is over the limit here too.
  assertThrows(() => limiter.admit("device-1", at(MINUTE), { requests: 1 }), HttpError);
});

Deno.test("createQuotaLimiter names the hash of the minute before last as expired", () => {
  const limiter = requestLimiter(5);
  assertEquals(limiter.expired(), []);
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  assertEquals(limiter.expired(), [limitsHashKey(MINUTE_NUMBER - 2)]);
});

Deno.test("createQuotaLimiter keeps counting locally when Redis is unreachable", () => {
  const limiter = requestLimiter(2);
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  const sent = limiter.unsynced();
  limiter.synced(sent, null);
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  assertThrows(() => limiter.admit("device-1", at(MINUTE), { requests: 1 }), HttpError);
});

Deno.test("createQuotaLimiter counts requests admitted while a sync is in flight", () => {
  const limiter = requestLimiter(10);
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  const sent = limiter.unsynced();
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  limiter.synced(sent, [1]);
  assertEquals(limiter.unsynced().map((increment) => increment.by), [1]);
});

Deno.test("syncInBackground adds the counts to the cache and learns the totals", async () => {
  const cache = createMemoryCache(() => MINUTE);
  const limiter = requestLimiter(3);
  const hash = limitsHashKey(MINUTE_NUMBER);
  await cache.addToCounters([{ hash, field: "requests:device-1", by: 2 }], []);
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  await syncInBackground(limiter, cache);
  assertEquals(await cache.readCounter(hash, "requests:device-1"), 3);
  assertThrows(() => limiter.admit("device-1", at(MINUTE), { requests: 1 }), HttpError);
});

Deno.test("createQuotaLimiter takes the totals of two syncs in flight at once, each for its own counts", () => {
  const limiter = requestLimiter(10);
  limiter.admit("device-1", at(MINUTE), { requests: 1 });
  const first = limiter.unsynced();
  limiter.admit("device-2", at(MINUTE), { requests: 1 });
  const second = limiter.unsynced();
  // The second answer comes back first: device-2 is at 10 in Redis, device-1 at 4.
  limiter.synced(second, [10]);
  limiter.synced(first, [4]);
  assertThrows(() => limiter.admit("device-2", at(MINUTE), { requests: 1 }), HttpError);
  for (let i = 0; i < 6; i++) limiter.admit("device-1", at(MINUTE), { requests: 1 });
  assertThrows(() => limiter.admit("device-1", at(MINUTE), { requests: 1 }), HttpError);
});
