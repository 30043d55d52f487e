import { assertEquals, assertThrows } from "@std/assert";
import { createMemoryCache } from "../platform/cache.ts";
import { HttpError } from "../platform/http.ts";
import { createRateLimiter, rateKey } from "./rate_limit.ts";

const MINUTE = Date.parse("2026-11-26T12:00:00.000Z");
const at = (ms: number) => new Date(ms);

Deno.test("createRateLimiter allows up to the limit and answers 429 with Retry-After after", () => {
  const limiter = createRateLimiter(3);
  for (let i = 0; i < 3; i++) limiter.admit("device-1", at(MINUTE + 15_000));
  const error = assertThrows(() => limiter.admit("device-1", at(MINUTE + 15_000)), HttpError);
  assertEquals([error.status, error.code, error.headers], [429, "rate_limited", {
    "retry-after": "45",
  }]);
  assertEquals(error.message, "Device sent more than 3 requests this minute; retry in 45 s");
});

Deno.test("createRateLimiter allows again when the next minute starts", () => {
  const limiter = createRateLimiter(1);
  limiter.admit("device-1", at(MINUTE));
  assertThrows(() => limiter.admit("device-1", at(MINUTE + 59_999)), HttpError);
  limiter.admit("device-1", at(MINUTE + 60_000));
});

Deno.test("createRateLimiter counts each device apart", () => {
  const limiter = createRateLimiter(1);
  limiter.admit("device-1", at(MINUTE));
  limiter.admit("device-2", at(MINUTE));
  assertThrows(() => limiter.admit("device-1", at(MINUTE)), HttpError);
});

Deno.test("createRateLimiter sends only unsynced counts and learns other isolates' totals", async () => {
  const cache = createMemoryCache(() => MINUTE);
  const limiter = createRateLimiter(5);
  limiter.admit("device-1", at(MINUTE));
  limiter.admit("device-1", at(MINUTE));
  const minute = Math.floor(MINUTE / 60_000);
  // Another isolate has already counted three requests of this device.
  await cache.set(rateKey("device-1", minute), "3", 120);
  const sent = limiter.unsynced();
  assertEquals(sent, [{ key: rateKey("device-1", minute), by: 2, ttlSeconds: 120 }]);
  limiter.synced(sent, await cache.addToCounters(sent, []));
  assertEquals(limiter.unsynced(), []);
  // Redis says 5 in all: the next request is over the limit here too.
  assertThrows(() => limiter.admit("device-1", at(MINUTE)), HttpError);
});

Deno.test("createRateLimiter keeps counting locally when Redis is unreachable", () => {
  const limiter = createRateLimiter(2);
  limiter.admit("device-1", at(MINUTE));
  const sent = limiter.unsynced();
  limiter.synced(sent, null);
  limiter.admit("device-1", at(MINUTE));
  assertThrows(() => limiter.admit("device-1", at(MINUTE)), HttpError);
});

Deno.test("createRateLimiter counts requests admitted while a sync is in flight", () => {
  const limiter = createRateLimiter(10);
  limiter.admit("device-1", at(MINUTE));
  const sent = limiter.unsynced();
  limiter.admit("device-1", at(MINUTE));
  limiter.synced(sent, [1]);
  assertEquals(limiter.unsynced().map((increment) => increment.by), [1]);
});
