import { assertEquals } from "@std/assert";
import { createDisabledCache, createMemoryCache } from "./cache.ts";
import { HttpError } from "./http.ts";
import { enforceRateLimit } from "./rate_limit.ts";

const MINUTE = Date.parse("2026-11-26T12:00:00.000Z");

/** Sends `count` requests at `at`; returns how each went: "ok" or the refusal. */
async function send(
  limit: (at: Date) => Promise<void>,
  at: number,
  count: number,
): Promise<unknown[]> {
  const outcomes: unknown[] = [];
  for (let i = 0; i < count; i++) {
    try {
      await limit(new Date(at));
      outcomes.push("ok");
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      outcomes.push({
        status: error.status,
        code: error.code,
        message: error.message,
        headers: error.headers,
      });
    }
  }
  return outcomes;
}

function limiter(now: { ms: number }, subject = "device-1", perMinute = 3) {
  const cache = createMemoryCache(() => now.ms);
  return {
    cache,
    limit: (at: Date) => enforceRateLimit(cache, subject, perMinute, at),
  };
}

Deno.test("enforceRateLimit allows up to the limit and answers 429 with Retry-After after", async () => {
  const now = { ms: MINUTE + 15_000 };
  const { limit } = limiter(now);
  assertEquals(await send(limit, now.ms, 5), [
    "ok",
    "ok",
    "ok",
    {
      status: 429,
      code: "rate_limited",
      message: "Device sent more than 3 requests this minute; retry in 45 s",
      headers: { "retry-after": "45" },
    },
    {
      status: 429,
      code: "rate_limited",
      message: "Device sent more than 3 requests this minute; retry in 45 s",
      headers: { "retry-after": "45" },
    },
  ]);
});

Deno.test("enforceRateLimit gives Retry-After as the seconds to the next minute", async (t) => {
  const cases: [number, string][] = [[0, "60"], [1_000, "59"], [30_500, "30"], [59_999, "1"]];
  for (const [offset, retryAfter] of cases) {
    await t.step(`at +${offset} ms -> ${retryAfter}`, async () => {
      const now = { ms: MINUTE + offset };
      const { limit } = limiter(now, "device-1", 1);
      const [, refused] = await send(limit, now.ms, 2);
      assertEquals((refused as { headers: unknown }).headers, { "retry-after": retryAfter });
    });
  }
});

Deno.test("enforceRateLimit allows again when the next minute starts", async () => {
  const now = { ms: MINUTE + 59_000 };
  const { limit } = limiter(now, "device-1", 2);
  const refused = (await send(limit, now.ms, 3))[2] as { status: number; headers: unknown };
  assertEquals([refused.status, refused.headers], [429, { "retry-after": "1" }]);
  now.ms = MINUTE + 60_000;
  assertEquals(await send(limit, now.ms, 2), ["ok", "ok"]);
});

Deno.test("enforceRateLimit counts each subject apart", async () => {
  const now = { ms: MINUTE };
  const cache = createMemoryCache(() => now.ms);
  const one = (at: Date) => enforceRateLimit(cache, "device-1", 1, at);
  const two = (at: Date) => enforceRateLimit(cache, "device-2", 1, at);
  assertEquals(await send(one, now.ms, 1), ["ok"]);
  assertEquals(await send(two, now.ms, 1), ["ok"]);
  assertEquals(((await send(one, now.ms, 1))[0] as { status: number }).status, 429);
});

Deno.test("enforceRateLimit keeps its counter in a versioned key with a two-minute TTL", async () => {
  const now = { ms: MINUTE };
  const { cache, limit } = limiter(now);
  await send(limit, now.ms, 2);
  const key = `telemetry:v1:rate:device-1:${MINUTE / 60_000}`;
  assertEquals(await cache.get(key), "2");
  now.ms = MINUTE + 119_999;
  assertEquals(await cache.get(key), "2");
  now.ms = MINUTE + 120_000;
  assertEquals(await cache.get(key), null);
});

Deno.test("enforceRateLimit allows every request when the cache is disabled", async () => {
  const cache = createDisabledCache();
  const limit = (at: Date) => enforceRateLimit(cache, "device-1", 1, at);
  assertEquals(await send(limit, MINUTE, 5), ["ok", "ok", "ok", "ok", "ok"]);
});
