/**
 * The local Upstash REST endpoint serves every command shape the project sends through
 * @upstash/redis (via shared/platform/cache.ts), against the real redis-server, and guards every path
 * with the token.
 */
import { assert, assertEquals } from "@std/assert";
import { Redis } from "@upstash/redis";
import { createUpstashCache } from "../../shared/platform/cache.ts";
import {
  createLiveFeed,
  LIVE_STREAM_MAX_ENTRIES,
  LIVE_WATCH_TTL_MS,
  type LiveEntry,
  liveStreamKey,
  liveWatchKey,
  streamEntries,
} from "../../shared/live/live_feed.ts";
import { createMemoryLogger } from "../../shared/platform/log.ts";
import { PORTS } from "../../scripts/stack/layout.ts";
import { stackKeys } from "./_helpers.ts";

const UPSTASH_URL = `http://127.0.0.1:${PORTS.upstash}`;

Deno.test("upstash endpoint serves the cache's get, set, getMany, getAtGeneration, del, addToCounters(AndGet) and ping", async () => {
  const logger = createMemoryLogger();
  const cache = createUpstashCache(
    { url: UPSTASH_URL, token: (await stackKeys()).upstashToken },
    logger,
  );
  const prefix = `test:${crypto.randomUUID()}`;
  const text = JSON.stringify({ note: "héllo ✈ drones", n: 1 });
  await cache.set(`${prefix}:a`, text, 30);
  assertEquals(await cache.get(`${prefix}:a`), text);
  assertEquals(await cache.getMany([`${prefix}:a`, `${prefix}:missing`]), [text, null]);
  const counter = { hash: `${prefix}:n`, field: "f", by: 2 };
  assertEquals(await cache.addToCounters([counter], []), [2]);
  assertEquals(
    await cache.addToCounters([counter], [`${prefix}:g1`, `${prefix}:g2`], [`${prefix}:old`]),
    [4],
  );
  assertEquals(await cache.readCounter(`${prefix}:n`, "f"), 4);
  assertEquals(await cache.getMany([`${prefix}:g1`, `${prefix}:g2`]), ["1", "1"]);
  // The same round trip reading keys (ingest's live watch marks) after its counts.
  assertEquals(
    await cache.addToCountersAndGet([counter], [`${prefix}:g3`], [], [
      `${prefix}:a`,
      `${prefix}:missing`,
    ]),
    { totals: [6], values: [text, null] },
  );
  assertEquals(await cache.addToCountersAndGet([], [], [], [`${prefix}:a`]), {
    totals: [],
    values: [text],
  });
  assertEquals(await cache.getMany([`${prefix}:g3`]), ["1"]);
  // Budgets and slots run as scripts on the server.
  const budget = { key: `${prefix}:budget`, limit: 10, ttlSeconds: 30 };
  assertEquals(await cache.setWithinBudget(`${prefix}:b1`, "123456", 30, [budget]), true);
  assertEquals(await cache.setWithinBudget(`${prefix}:b2`, "123456", 30, [budget]), false);
  assertEquals(await cache.getMany([`${prefix}:b1`, `${prefix}:b2`, budget.key]), [
    "123456",
    null,
    "6",
  ]);
  const slots = `${prefix}:slots`;
  assertEquals(await cache.acquireSlot(slots, "a", 1, 1_000, 5_000), { acquired: true });
  assertEquals(await cache.acquireSlot(slots, "b", 1, 1_000, 6_000), {
    acquired: false,
    freeAtMs: 5_000,
  });
  await cache.releaseSlot(slots, "a");
  assertEquals(await cache.acquireSlot(slots, "b", 1, 1_000, 6_000), { acquired: true });
  await cache.del(`${prefix}:b1`, budget.key, slots);
  // One round trip: the counter, then the entry kept under its current value.
  await cache.set(`${prefix}:entry:1:q`, "page at 1", 30);
  assertEquals(await cache.getAtGeneration(`${prefix}:g1`, `${prefix}:entry:`, ":q"), {
    generation: "1",
    value: "page at 1",
  });
  assertEquals(await cache.getAtGeneration(`${prefix}:none`, `${prefix}:entry:`, ":q"), {
    generation: "0",
    value: null,
  });
  await cache.del(`${prefix}:a`, `${prefix}:n`, `${prefix}:g1`, `${prefix}:g2`, `${prefix}:g3`);
  assertEquals(await cache.get(`${prefix}:a`), null);
  assertEquals(await cache.ping(), true);
  assertEquals(logger.lines, []);
});

Deno.test("upstash endpoint runs a multi-exec transaction and keeps the TTL set by EX", async () => {
  const redis = new Redis({ url: UPSTASH_URL, token: (await stackKeys()).upstashToken });
  const key = `test:${crypto.randomUUID()}`;
  const transaction = redis.multi();
  transaction.set(key, "v", { ex: 30 });
  transaction.ttl(key);
  transaction.get(key);
  const [set, ttl, value] = await transaction.exec<[string, number, string]>();
  assertEquals([set, value], ["OK", "v"]);
  assertEquals(ttl > 0 && ttl <= 30, true);
  await redis.del(key);
});

Deno.test("upstash endpoint refuses a wrong token on every path", async () => {
  for (const path of ["/", "/pipeline", "/multi-exec"]) {
    const response = await fetch(`${UPSTASH_URL}${path}`, {
      method: "POST",
      headers: { authorization: "Bearer wrong" },
      body: JSON.stringify(path === "/" ? ["PING"] : [["PING"]]),
    });
    await response.body?.cancel();
    assertEquals([path, response.status], [path, 401]);
  }
});

Deno.test("upstash endpoint serves the live feed's XADD, XTRIM, XRANGE, XREVRANGE and EVAL", async () => {
  const logger = createMemoryLogger();
  const token = (await stackKeys()).upstashToken;
  const feed = createLiveFeed({ url: UPSTASH_URL, token }, logger);
  const redis = new Redis({ url: UPSTASH_URL, token, automaticDeserialization: false });
  const deviceId = crypto.randomUUID();
  const key = liveStreamKey(deviceId);
  assertEquals(await feed.newestId(deviceId), "0-0");
  assertEquals(await feed.hasGapAfter(deviceId, "1-0"), true);

  // The watch mark: set once with Redis's clock (in ms, like stream ids), kept by a renewal.
  const before = Date.now();
  const since = await feed.watch(deviceId);
  assert(Math.abs(since - before) < 5_000, `watch began at ${since}, now ${before}`);
  assertEquals(await feed.watch(deviceId), since);
  const ttl = Number(await redis.pttl(liveWatchKey(deviceId)));
  assert(ttl > 0 && ttl <= LIVE_WATCH_TTL_MS, `watch mark TTL ${ttl} ms`);

  // An entry older than the window, then one request of 120 frames: three entries, and the
  // request's time trim removes the old one.
  await redis.xadd(key, "1700000000000-0", { frames: '{"old":1}', flights: "[null]" });
  const frames = Array.from({ length: 120 }, (_, i) => ({ roll_degrees: i, flight_id: "é✈" }));
  feed.publish([{ deviceId, frames }]);
  let held: LiveEntry[] = [];
  for (let attempt = 0; attempt < 50 && held.length < 3; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    held = await feed.readAfter(deviceId, "0-0", 100);
  }
  const [first, second, third] = held;
  assertEquals(held.map((entry) => entry.frames.length), [50, 50, 20]);
  const rolls = (entries: LiveEntry[]) =>
    entries.flatMap((entry) => entry.frames.map((frame) => JSON.parse(frame.data).roll_degrees));
  assertEquals(rolls(held), frames.map((frame) => frame.roll_degrees));
  assertEquals(second!.frames[7], {
    id: `${second!.id}/7`,
    flightId: "é✈",
    data: JSON.stringify({ device_id: deviceId, roll_degrees: 57, flight_id: "é✈" }),
  });
  assertEquals(await feed.newestId(deviceId), third!.id);

  // Resuming after a frame: the rest of its entry, then the next ones; after an entry's last
  // frame, the next entry.
  const afterTen = await feed.readAfter(deviceId, `${second!.id}/10`, 100);
  assertEquals(afterTen.map((entry) => entry.id), [second!.id, third!.id]);
  assertEquals(afterTen[0]!.frames[0]!.id, `${second!.id}/11`);
  assertEquals(rolls(afterTen), frames.slice(61).map((frame) => frame.roll_degrees));
  const afterLast = await feed.readAfter(deviceId, `${first!.id}/49`, 100);
  assertEquals(afterLast.map((entry) => entry.id), [second!.id, third!.id]);
  assertEquals(await feed.readAfter(deviceId, `${third!.id}/19`, 100), []);
  assertEquals(await feed.hasGapAfter(deviceId, "1700000000000-0/0"), true);
  assertEquals(await feed.hasGapAfter(deviceId, `${first!.id}/3`), false);

  // More one-frame requests than the cap: the stream is trimmed by entries.
  feed.publish(
    Array.from({ length: 1200 }, (_, i) => ({ deviceId, frames: [{ roll_degrees: i }] })),
  );
  let newest = "";
  for (let attempt = 0; attempt < 50; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [tail] = streamEntries(await redis.xrevrange(key, "+", "-", 1));
    newest = tail?.id ?? "";
    if (JSON.parse(tail?.frames[0]?.data ?? "{}").roll_degrees === 1199) break;
  }
  const length = await redis.xlen(key);
  assertEquals(length >= LIVE_STREAM_MAX_ENTRIES && length < 1200, true, `length ${length}`);
  assertEquals(await feed.hasGapAfter(deviceId, `${first!.id}/3`), true);
  assertEquals(await feed.hasGapAfter(deviceId, newest), false);
  assertEquals(logger.lines, []);
  await redis.del(key);
});
