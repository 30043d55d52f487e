/**
 * The local Upstash REST endpoint serves every command shape the project sends through
 * @upstash/redis (via shared/cache.ts), against the real redis-server, and guards every path
 * with the token.
 */
import { assertEquals } from "@std/assert";
import { Redis } from "@upstash/redis";
import { createUpstashCache } from "../../shared/cache.ts";
import { createLiveFeed, LIVE_STREAM_MAX_ENTRIES, type LiveEntry } from "../../shared/live_feed.ts";
import { createMemoryLogger } from "../../shared/log.ts";
import { PORTS } from "../../scripts/stack/layout.ts";
import { stackKeys } from "./_helpers.ts";

const UPSTASH_URL = `http://127.0.0.1:${PORTS.upstash}`;

Deno.test("upstash endpoint serves the cache's get, set, getMany, del, addToCounters and ping", async () => {
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
  const counter = { key: `${prefix}:n`, by: 2, ttlSeconds: 30 };
  assertEquals(await cache.addToCounters([counter], []), [2]);
  assertEquals(await cache.addToCounters([counter], [`${prefix}:g1`, `${prefix}:g2`]), [4]);
  assertEquals(await cache.getMany([`${prefix}:g1`, `${prefix}:g2`]), ["1", "1"]);
  await cache.del(`${prefix}:a`, `${prefix}:n`, `${prefix}:g1`, `${prefix}:g2`);
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

Deno.test("upstash endpoint serves the live feed's XADD, XRANGE, XREVRANGE and EVAL", async () => {
  const logger = createMemoryLogger();
  const feed = createLiveFeed(
    { url: UPSTASH_URL, token: (await stackKeys()).upstashToken },
    logger,
  );
  const deviceId = crypto.randomUUID();
  assertEquals(await feed.newestId(deviceId), "0-0");
  assertEquals(await feed.hasGapAfter(deviceId, "1-0"), true);
  // More than the cap, in two requests: the stream is trimmed, so the oldest ids are a gap.
  const frames = (from: number) =>
    Array.from({ length: 600 }, (_, i) => ({ roll_degrees: from + i, flight_id: "é✈" }));
  feed.publish([{ deviceId, frames: frames(0) }]);
  let first: string | undefined;
  for (let attempt = 0; attempt < 50 && !first; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    first = (await feed.readAfter(deviceId, "0-0", 1))[0]?.id;
  }
  feed.publish([{ deviceId, frames: frames(600) }]);
  let held: LiveEntry[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    held = await feed.readAfter(deviceId, "0-0", 2000);
    if (JSON.parse(held.at(-1)?.data ?? "{}").roll_degrees === 1199) break;
  }
  const newest = await feed.newestId(deviceId);
  assertEquals(held.length >= LIVE_STREAM_MAX_ENTRIES, true);
  assertEquals(held.length < 1200, true);
  assertEquals(held.at(-1)?.id, newest);
  assertEquals(held[0]?.flightId, "é✈");
  assertEquals(await feed.hasGapAfter(deviceId, first!), true);
  assertEquals(await feed.hasGapAfter(deviceId, newest), false);
  assertEquals(logger.lines, []);
});
