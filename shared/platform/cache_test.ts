/** The in-memory and disabled caches; the Upstash cache is tested end to end. */
import { assertEquals } from "@std/assert";
import { cacheKey, createDisabledCache, createMemoryCache } from "./cache.ts";

const START = Date.parse("2026-11-26T12:00:00.000Z");

function memory() {
  const now = { ms: START };
  return { now, cache: createMemoryCache(() => now.ms) };
}

Deno.test("cacheKey joins kind and parts under the versioned prefix", () => {
  assertEquals(cacheKey("device", "abc"), "telemetry:v1:device:abc");
  assertEquals(cacheKey("rate", "abc", "123"), "telemetry:v1:rate:abc:123");
  assertEquals(cacheKey("gen"), "telemetry:v1:gen");
});

Deno.test("createMemoryCache get returns what set stored until its TTL ends", async () => {
  const { now, cache } = memory();
  await cache.set("a", "value", 10);
  assertEquals(await cache.get("a"), "value");
  now.ms = START + 9_999;
  assertEquals(await cache.get("a"), "value");
  now.ms = START + 10_000;
  assertEquals(await cache.get("a"), null);
});

Deno.test("createMemoryCache get returns null for a key never set", async () => {
  const { cache } = memory();
  assertEquals(await cache.get("missing"), null);
});

Deno.test("createMemoryCache set replaces the value and restarts the TTL", async () => {
  const { now, cache } = memory();
  await cache.set("a", "old", 10);
  now.ms = START + 5_000;
  await cache.set("a", "new", 10);
  now.ms = START + 14_999;
  assertEquals(await cache.get("a"), "new");
  now.ms = START + 15_000;
  assertEquals(await cache.get("a"), null);
});

Deno.test("createMemoryCache getMany returns each key's value or null, in order", async () => {
  const { now, cache } = memory();
  await cache.set("a", "1", 10);
  await cache.set("b", "2", 1);
  await cache.set("c", "3", 10);
  now.ms = START + 1_000;
  assertEquals(await cache.getMany(["c", "b", "missing", "a"]), ["3", null, null, "1"]);
  assertEquals(await cache.getMany([]), []);
});

Deno.test("createMemoryCache del removes every key given", async () => {
  const { cache } = memory();
  await cache.set("a", "1", 10);
  await cache.set("b", "2", 10);
  await cache.set("c", "3", 10);
  await cache.del("a", "c", "missing");
  assertEquals(await cache.getMany(["a", "b", "c"]), [null, "2", null]);
  await cache.del();
  assertEquals(await cache.get("b"), "2");
});

Deno.test("createMemoryCache addToCounters counts from the amount and keeps the first TTL", async () => {
  const { now, cache } = memory();
  assertEquals(await cache.addToCounters([{ key: "n", by: 1, ttlSeconds: 10 }], []), [1]);
  now.ms = START + 9_000;
  assertEquals(await cache.addToCounters([{ key: "n", by: 3, ttlSeconds: 10 }], []), [4]);
  assertEquals(await cache.get("n"), "4");
  now.ms = START + 10_000;
  assertEquals(await cache.get("n"), null);
  assertEquals(await cache.addToCounters([{ key: "n", by: 2, ttlSeconds: 10 }], []), [2]);
  now.ms = START + 19_999;
  assertEquals(await cache.get("n"), "2");
});

Deno.test("createMemoryCache addToCounters adds to a number stored with set", async () => {
  const { cache } = memory();
  await cache.set("n", "41", 10);
  assertEquals(await cache.addToCounters([{ key: "n", by: 1, ttlSeconds: 10 }], []), [42]);
});

Deno.test("createMemoryCache addToCounters bumps each key by one without a TTL", async () => {
  const { now, cache } = memory();
  assertEquals(await cache.addToCounters([], ["g1", "g2"]), []);
  await cache.addToCounters([], ["g1"]);
  await cache.addToCounters([], []);
  now.ms = START + 365 * 24 * 3600 * 1000;
  assertEquals(await cache.getMany(["g1", "g2"]), ["2", "1"]);
});

Deno.test("createMemoryCache ping answers true", async () => {
  assertEquals(await memory().cache.ping(), true);
});

Deno.test("createDisabledCache misses every read and drops every write", async () => {
  const cache = createDisabledCache();
  await cache.set("a", "1", 10);
  assertEquals(await cache.addToCounters([], ["g"]), null);
  assertEquals(await cache.get("a"), null);
  assertEquals(await cache.getMany(["a", "g"]), [null, null]);
  assertEquals(await cache.getMany([]), []);
  assertEquals(await cache.del("a"), undefined);
  assertEquals(await cache.addToCounters([{ key: "n", by: 1, ttlSeconds: 10 }], []), null);
  assertEquals(await cache.ping(), false);
});

Deno.test("createMemoryCache getAtGeneration reads the entry kept under the counter's value", async () => {
  const cache = createMemoryCache(() => 0);
  assertEquals(await cache.getAtGeneration("gen", "q:", ":h"), { generation: "0", value: null });
  await cache.set("q:0:h", "page at 0", 60);
  assertEquals(await cache.getAtGeneration("gen", "q:", ":h"), {
    generation: "0",
    value: "page at 0",
  });
  await cache.addToCounters([], ["gen"]);
  assertEquals(await cache.getAtGeneration("gen", "q:", ":h"), { generation: "1", value: null });
});

Deno.test("createDisabledCache getAtGeneration always misses", async () => {
  assertEquals(await createDisabledCache().getAtGeneration("gen", "q:", ":h"), {
    generation: "0",
    value: null,
  });
});
