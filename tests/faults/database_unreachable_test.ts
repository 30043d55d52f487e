/**
 * Without the database path a device is told to retry (503 + Retry-After), health says
 * unhealthy, and nothing of the refused request is half-stored. The stack is whole again after.
 */
import { assert, assertEquals } from "@std/assert";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
  sql,
} from "../integration/_helpers.ts";
import { killComponent, startStack } from "../_stack.ts";

Deno.test("telemetry-parse answers 503 with Retry-After when the database stays unreachable", async () => {
  const device = await createDevice(await createUser());
  // One request first, so that the device's key is in the cache and auth needs no database.
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
  await killComponent("postgrest", "SIGTERM");
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
