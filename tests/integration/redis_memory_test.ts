/**
 * Redis stays bounded (issue 21 §6), on the local stack's real Redis: the query cache stops
 * storing a user's answers at their byte budget, and when Redis itself is full, it evicts only
 * keys with a TTL (cached answers) while rate-limit counters and cache generations, which have
 * none, stay, so limits still hold.
 */
import { assert, assertEquals } from "@std/assert";
import { cacheKey } from "../../shared/platform/cache.ts";
import { limitsHashKey } from "../../shared/auth/rate_limit.ts";
import { ownerGenerationKey } from "../../shared/query/query_cache.ts";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
  type TestDevice,
} from "./_helpers.ts";
import { redis } from "./_redis.ts";

/** Defaults of shared/platform/env_schema.ts, which the local stack runs with. */
const QUERY_CACHE_SECONDS = 300;
const QUERY_CACHE_BYTES_PER_USER = 8 * 1024 * 1024;
const REQUESTS_PER_MINUTE = 1_200;

async function newDevice(): Promise<TestDevice> {
  return await createDevice(await createUser());
}

async function cachedTwice(device: TestDevice): Promise<[boolean, boolean]> {
  const ask = async () => {
    const { status, body } = await jsonOf(
      await callFunction("telemetry-query", {
        headers: { authorization: `Bearer ${device.owner.token}` },
        path: `?device_id=${device.id}&limit=5`,
      }),
    );
    assertEquals(status, 200);
    return body.cached as boolean;
  };
  return [await ask(), await ask()];
}

async function memoryInfo(): Promise<Record<string, string>> {
  const text = String(await redis("INFO"));
  return Object.fromEntries(
    text.split("\r\n").filter((line) => line.includes(":")).map((line) => line.split(":", 2)),
  ) as Record<string, string>;
}

Deno.test("telemetry-query stops caching a user's answers at QUERY_CACHE_BYTES_PER_USER, and only theirs", async () => {
  const [full, other] = [await newDevice(), await newDevice()];
  for (const device of [full, other]) {
    assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
  }
  // The user has cached their budget's worth this window (and the next, should it start now).
  const window = Math.floor(Date.now() / (QUERY_CACHE_SECONDS * 1000));
  const budgets = [window, window + 1].map((w) =>
    cacheKey("query-budget", `user:${full.owner.id}`, String(w))
  );
  for (const key of budgets) await redis("SET", key, QUERY_CACHE_BYTES_PER_USER, "EX", 600);
  try {
    assertEquals(await cachedTwice(full), [false, false]);
    assertEquals(await cachedTwice(other), [false, true]);
  } finally {
    await redis("DEL", ...budgets);
  }
});

Deno.test("Redis filled past its maxmemory evicts cached answers, never rate-limit counters or generations", async () => {
  const device = await newDevice();
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
  const generation = ownerGenerationKey(device.owner.id);
  const generationBefore = await redis("GET", generation);
  assert(generationBefore !== null, "ingest bumped the owner's generation");

  const [, maxmemory] = await redis("CONFIG", "GET", "maxmemory") as [string, string];
  const before = await memoryInfo();
  const fill = `${cacheKey("query", "fill")}:${crypto.randomUUID()}`;
  const page = "x".repeat(512 * 1024);
  // The device is at its request limit this minute, as other isolates counted it.
  let minute = Math.floor(Date.now() / 60_000);
  if (60_000 - (Date.now() % 60_000) < 15_000) {
    await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000) + 200));
    minute = Math.floor(Date.now() / 60_000);
  }
  const hash = limitsHashKey(minute);
  await redis("HSET", hash, `requests:${device.id}`, REQUESTS_PER_MINUTE);
  try {
    // Room for about 16 pages more than Redis holds now; 64 pages are written.
    await redis("CONFIG", "SET", "maxmemory", Number(before.used_memory) + 8 * 1024 * 1024);
    for (let i = 0; i < 64; i++) await redis("SET", `${fill}:${i}`, page, "EX", 300);
    const after = await memoryInfo();
    const evicted = Number(after.evicted_keys) - Number(before.evicted_keys);
    assert(evicted >= 40, `evicted ${evicted} keys`);
    assert(Number(after.used_memory) <= Number(before.used_memory) + 9 * 1024 * 1024);

    assertEquals(Number(await redis("HGET", hash, `requests:${device.id}`)), REQUESTS_PER_MINUTE);
    assertEquals(await redis("GET", generation), generationBefore);
    // The limit still holds: one request may pass before the function learns the total.
    const first = await sendTelemetry(device, "roll:2");
    await first.body?.cancel();
    const refused = await sendTelemetry(device, "roll:3");
    const { status, body } = await jsonOf(refused);
    assertEquals([status, body.error.code], [429, "rate_limited"]);
    assert(Number(refused.headers.get("retry-after")) >= 1);
  } finally {
    await redis("CONFIG", "SET", "maxmemory", maxmemory);
    await redis("HDEL", hash, `requests:${device.id}`);
    const keys = Array.from({ length: 64 }, (_, i) => `${fill}:${i}`);
    await redis("DEL", ...keys);
  }
});
