/**
 * The device client against the real stack: batches through the gateway to telemetry-parse,
 * and a retry after a lost answer that stores nothing twice.
 */
import { assertEquals } from "@std/assert";
import { DeviceClient } from "../../scripts/device/client.ts";
import { sendBatch } from "../../scripts/device/send.ts";
import { createDevice, createUser, FUNCTIONS_URL, sql } from "./_helpers.ts";

async function framesOf(deviceId: string): Promise<number> {
  return Number(
    await sql(`select count(*) from public.telemetry_frames where device_id = '${deviceId}'`),
  );
}

const at = (second: number) => new Date(Date.UTC(2026, 10, 20, 12, 0, second)).toISOString();

Deno.test("a batch whose answer was lost is retried under its key and stored once", async () => {
  const device = await createDevice(await createUser());
  let calls = 0;
  // The request reaches the real API; only its answer is lost on the way back, the case an
  // Idempotency-Key exists for.
  const loseFirstAnswer = async (request: Request) => {
    const response = await fetch(request);
    if (++calls === 1) {
      await response.body?.cancel();
      throw new TypeError("connection reset");
    }
    return response;
  };
  const frames = [0, 1, 2].map((s) => ({ ts: at(s), roll: s, alt: 10 + s }));
  const outcome = await sendBatch(frames, crypto.randomUUID(), {
    functionsUrl: FUNCTIONS_URL,
    deviceKey: device.key,
    transport: loseFirstAnswer,
    baseBackoffMs: 10,
  });
  assertEquals(outcome.kind, "stored");
  assertEquals(outcome.kind === "stored" && [outcome.accepted, outcome.replayed], [3, true]);
  assertEquals(outcome.attempts, 2);
  assertEquals(await framesOf(device.id), 3);
});

Deno.test("DeviceClient stores every pushed frame and counts the invalid ones", async () => {
  const device = await createDevice(await createUser());
  const client = new DeviceClient({
    functionsUrl: FUNCTIONS_URL,
    deviceKey: device.key,
    maxBatchFrames: 4,
    lingerMs: 20,
  });
  client.start();
  for (let s = 0; s < 10; s++) client.push({ ts: at(s), alt: s, flight_id: "client-test" });
  client.push({ ts: at(10), roll: 999 });
  await client.close();
  assertEquals(client.stats.accepted, 10);
  assertEquals(client.stats.rejected, 1);
  assertEquals(client.stats.failed, 0);
  assertEquals(await framesOf(device.id), 10);
  assertEquals(
    await sql(
      `select count(*) from public.telemetry_frames where device_id = '${device.id}' and flight_id = 'client-test'`,
    ),
    "10",
  );
});
