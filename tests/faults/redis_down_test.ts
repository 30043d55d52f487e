/**
 * Redis never holds the only copy of anything: while it is down, devices store and operators
 * query as before, only uncached, and health says degraded; once it is back, answers are cached
 * again and a new frame still invalidates them.
 */
import { assertEquals } from "@std/assert";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
} from "../integration/_helpers.ts";
import { restartRedis, stopRedis } from "../integration/_redis.ts";

/** Lines of frames with device timestamps, so each call stores new ones. */
function frames(first: number, count: number): string {
  const start = Date.parse("2026-11-30T08:00:00Z");
  return Array.from(
    { length: count },
    (_, i) => `roll:${first + i},ts:${new Date(start + (first + i) * 1000).toISOString()}`,
  ).join("\n");
}

Deno.test("the API works uncached while Redis is down and caches again when it is back", async () => {
  const owner = await createUser();
  const device = await createDevice(owner);
  const query = async () =>
    await jsonOf(
      await callFunction("telemetry-query", {
        headers: { authorization: `Bearer ${owner.token}` },
        query: { device_id: device.id },
      }),
    );
  const summary = (answer: Awaited<ReturnType<typeof query>>) => [
    answer.status,
    answer.body.count,
    answer.body.cached,
  ];
  assertEquals((await jsonOf(await sendTelemetry(device, frames(0, 2)))).status, 200);
  assertEquals(summary(await query()), [200, 2, false]);
  assertEquals(summary(await query()), [200, 2, true]);

  await stopRedis();
  try {
    const stored = await jsonOf(await sendTelemetry(device, frames(2, 3)));
    assertEquals([stored.status, stored.body.accepted], [200, 3]);
    // Nothing is served from or kept in a cache that is down, so nothing stale is served.
    assertEquals(summary(await query()), [200, 5, false]);
    assertEquals(summary(await query()), [200, 5, false]);
    const health = await jsonOf(await callFunction("health"));
    assertEquals(
      [
        health.status,
        health.body.status,
        health.body.cache_connected,
        health.body.supabase_connected,
      ],
      [200, "degraded", false, true],
    );
  } finally {
    await restartRedis();
  }

  const health = await jsonOf(await callFunction("health"));
  assertEquals([health.status, health.body.cache_connected], [200, true]);
  assertEquals(summary(await query()), [200, 5, false]);
  assertEquals(summary(await query()), [200, 5, true]);
  assertEquals((await jsonOf(await sendTelemetry(device, frames(5, 1)))).status, 200);
  assertEquals(summary(await query()), [200, 6, false]);
});
