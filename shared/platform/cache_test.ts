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

Deno.test("createMemoryCache addToCounters adds to hash fields with no TTL and drops the keys given", async () => {
  const { now, cache } = memory();
  assertEquals(await cache.addToCounters([{ hash: "h1", field: "a", by: 1 }], []), [1]);
  assertEquals(
    await cache.addToCounters(
      [{ hash: "h1", field: "a", by: 3 }, { hash: "h1", field: "b", by: 2 }],
      [],
    ),
    [4, 2],
  );
  now.ms = START + 365 * 24 * 3600 * 1000;
  assertEquals(await cache.readCounter("h1", "a"), 4);
  assertEquals(await cache.readCounter("h1", "missing"), 0);
  await cache.addToCounters([{ hash: "h2", field: "a", by: 1 }], [], ["h1"]);
  assertEquals(await cache.readCounter("h1", "a"), 0);
});

Deno.test("createMemoryCache setWithinBudget stores until a budget would be passed, charging none then", async () => {
  const { cache } = memory();
  const budgets = [{ key: "user", limit: 10, ttlSeconds: 60 }, {
    key: "all",
    limit: 15,
    ttlSeconds: 60,
  }];
  assertEquals(await cache.setWithinBudget("k1", "123456", 60, budgets), true);
  assertEquals(await cache.setWithinBudget("k2", "12345", 60, budgets), false);
  assertEquals(await cache.getMany(["k1", "k2", "user", "all"]), ["123456", null, "6", "6"]);
  assertEquals(await cache.setWithinBudget("k3", "1234", 60, budgets), true);
  assertEquals(await cache.get("user"), "10");
});

Deno.test("createMemoryCache acquireSlot gives at most cap slots until one is released or lapses", async () => {
  const { cache } = memory();
  assertEquals(await cache.acquireSlot("s", "a", 2, 0, 1_000), { acquired: true });
  assertEquals(await cache.acquireSlot("s", "b", 2, 0, 2_000), { acquired: true });
  assertEquals(await cache.acquireSlot("s", "c", 2, 0, 3_000), {
    acquired: false,
    freeAtMs: 1_000,
  });
  await cache.releaseSlot("s", "b");
  assertEquals(await cache.acquireSlot("s", "c", 2, 0, 3_000), { acquired: true });
  assertEquals(await cache.acquireSlot("s", "d", 2, 1_000, 4_000), { acquired: true });
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
  assertEquals(await cache.addToCounters([{ hash: "h", field: "n", by: 1 }], []), null);
  assertEquals(await cache.readCounter("h", "n"), null);
  assertEquals(await cache.setWithinBudget("a", "1", 10, []), false);
  assertEquals(await cache.acquireSlot("s", "m", 1, 0, 1), null);
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
