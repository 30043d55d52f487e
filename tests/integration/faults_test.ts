/**
 * The API with parts of the stack down: without Redis it stays correct (only slower); without
 * the database path, a device is told to retry (503 + Retry-After) and nothing is half-stored.
 * Each test brings the stack back before it ends.
 */
import { assert, assertEquals } from "@std/assert";
import { PROJECT_ROOT, stackPath } from "../../scripts/stack/layout.ts";
import { callFunction, createDevice, createUser, jsonOf, sendTelemetry, sql } from "./_helpers.ts";
import { restartRedis, stopRedis } from "./_redis.ts";

async function stopComponent(name: string): Promise<void> {
  const pid = Number((await Deno.readTextFile(stackPath("run", `${name}.pid`))).trim());
  Deno.kill(pid, "SIGTERM");
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      return; // gone
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not stop`);
}

async function startStack(): Promise<void> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "stack", "start"],
    cwd: PROJECT_ROOT,
    stdout: "null",
    stderr: "inherit",
  }).output();
  assertEquals(code, 0);
}

Deno.test("telemetry-parse stores frames and health says degraded while Redis is down", async () => {
  const device = await createDevice(await createUser());
  await stopRedis();
  try {
    const { status, body } = await jsonOf(await sendTelemetry(device, "roll:1\nroll:2\nroll:3"));
    assertEquals(status, 200);
    assertEquals(body.accepted, 3);
    const health = await jsonOf(await callFunction("health"));
    assertEquals(health.status, 200);
    assertEquals(health.body.status, "degraded");
    assertEquals(health.body.cache_connected, false);
    assertEquals(health.body.supabase_connected, true);
  } finally {
    await restartRedis();
  }
  assertEquals(
    await sql(`select count(*) from public.telemetry_frames where device_id = '${device.id}'`),
    "3",
  );
});

Deno.test("telemetry-parse answers 503 with Retry-After when the database stays unreachable", async () => {
  const device = await createDevice(await createUser());
  // One request first, so that the device's key is in the cache and auth needs no database.
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
  await stopComponent("postgrest");
  try {
    const response = await sendTelemetry(device, "roll:2\nroll:3");
    const { status, body } = await jsonOf(response);
    assertEquals(status, 503);
    assertEquals(body.error.code, "database_unavailable");
    assert(Number(response.headers.get("retry-after")) > 0);
    const health = await jsonOf(await callFunction("health"));
    assertEquals([health.status, health.body.status, health.body.supabase_connected], [
      503,
      "unhealthy",
      false,
    ]);
  } finally {
    await startStack();
  }
  assertEquals(
    await sql(`select count(*) from public.telemetry_frames where device_id = '${device.id}'`),
    "1",
  );
});
