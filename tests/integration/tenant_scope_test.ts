/**
 * Figures that count frames are scoped like the frames (issue 16 §2), end to end: every endpoint
 * that aggregates across devices (telemetry-batch-status, health's details, the analytics
 * monitor and rollups, telemetry-query without device_id) is called by a stranger who owns no
 * device, and by an owner of one device, while another tenant's device sends frames and the
 * flush is held, so that tenant's frames are certainly staged during the calls. The stranger
 * gets zeros and empty lists; the owner counts their own frames only; service role sees the
 * other tenant's frames, which shows they were there to be counted.
 */
import { assert, assertEquals } from "@std/assert";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
  sql,
  stackKeys,
  type TestDevice,
} from "./_helpers.ts";
import * as postgres from "../../scripts/stack/postgres.ts";

/** Lines of frames recorded now, each at its own millisecond (never the same twice). */
let lastAt = 0;
function frameLines(count: number, flightId = "test-flight"): string {
  return Array.from({ length: count }, (_, i) => {
    lastAt = Math.max(Date.now(), lastAt + 1);
    return `roll:1,alt:${i},flight_id:${flightId},ts:${new Date(lastAt).toISOString()}`;
  }).join("\n");
}

/**
 * Holds the flush's advisory lock in a separate session for `seconds`, so every flush meanwhile
 * is skipped and what is staged stays staged. Resolves when the session ends.
 */
function holdFlush(seconds: number): Promise<string> {
  return postgres.psql(
    `begin; select pg_advisory_xact_lock(hashtextextended('telemetry.flush', 0)); select pg_sleep(${seconds}); commit;`,
  );
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Timed out waiting until ${what}`);
}

/** Another tenant's device sending 20 frames a request until stop() is called. */
function otherTenantFlow(device: TestDevice): { stop: () => Promise<number> } {
  let flowing = true;
  let sent = 0;
  const loop = (async () => {
    while (flowing) {
      const response = await sendTelemetry(device, frameLines(20));
      await response.body?.cancel();
      if (response.status === 200) sent += 20;
    }
  })();
  return {
    stop: async () => {
      flowing = false;
      await loop;
      return sent;
    },
  };
}

function get(name: string, token: string | null, path = "", query: Record<string, string> = {}) {
  return callFunction(name, {
    path,
    query,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

function sumFrames(monitor: { frames_per_minute: { frames: number }[] }): number {
  return monitor.frames_per_minute.reduce((sum, minute) => sum + minute.frames, 0);
}

Deno.test("aggregating endpoints count nothing of another tenant while its frames flow", async () => {
  const keys = await stackKeys();
  const other = await createDevice(await createUser(), "other tenant's drone");
  const stranger = await createUser();
  const owner = await createUser();
  const mine = await createDevice(owner, "owner's drone");

  const held = holdFlush(6);
  // The lock is taken when the session has begun; wait for it before staging anything.
  await waitUntil(
    "the flush lock is held",
    async () =>
      (await sql(`select pg_try_advisory_xact_lock(hashtextextended('telemetry.flush', 0))`)) ===
        "f",
  );
  const flow = otherTenantFlow(other);
  try {
    const ownLines = frameLines(3);
    assertEquals((await sendTelemetry(mine, ownLines)).status, 200);
    await waitUntil("the other tenant has frames staged", async () =>
      Number(
        await sql(
          `select coalesce(sum(frame_count), 0) from telemetry.telemetry_staging where device_id = '${other.id}'`,
        ),
      ) >= 40);

    // telemetry-batch-status: a stranger counts zero, an owner their 3 staged frames.
    const strangerStatus = await jsonOf(await get("telemetry-batch-status", stranger.token));
    assertEquals(strangerStatus.status, 200);
    assertEquals(strangerStatus.body.batch_status.pending_records, 0);
    assertEquals(strangerStatus.body.batch_status.batch_full, false);
    assertEquals(strangerStatus.body.batch_status.oldest_pending_age_seconds, null);
    assertEquals(strangerStatus.body.batch_status.last_flush, null);
    assertEquals(strangerStatus.body.batch_status.scope, "devices");
    const ownerStatus = await jsonOf(await get("telemetry-batch-status", owner.token));
    assertEquals(ownerStatus.body.batch_status.pending_records, 3);
    const serviceStatus = await jsonOf(await get("telemetry-batch-status", keys.serviceRoleKey));
    assert(serviceStatus.body.batch_status.pending_records >= 43, "service role sees the flow");
    assertEquals(serviceStatus.body.batch_status.scope, "pipeline");

    // health: no counts without a credential; a user's own; service role the pipeline's.
    const anonymous = await jsonOf(await get("health", null));
    assertEquals(anonymous.body.batch_status.pending_records, null);
    assertEquals(anonymous.body.batch_status.oldest_pending_age_seconds, null);
    assertEquals(anonymous.body.batch_status.batch_full, null);
    const publishable = await jsonOf(
      await callFunction("health", { headers: { apikey: keys.publishableKey } }),
    );
    assertEquals(publishable.body.batch_status.pending_records, null);
    const strangerHealth = await jsonOf(await get("health", stranger.token));
    assertEquals(strangerHealth.status, 200);
    assertEquals(strangerHealth.body.batch_status.pending_records, 0);
    assertEquals(strangerHealth.body.batch_status.scope, "devices");
    const ownerHealth = await jsonOf(await get("health", owner.token));
    assertEquals(ownerHealth.body.batch_status.pending_records, 3);
    const serviceHealth = await jsonOf(await get("health", keys.serviceRoleKey));
    assert(serviceHealth.body.batch_status.pending_records >= 43, "service role sees the flow");
    assertEquals((await get("health", "not-a-token")).status, 401);

    // The analytics monitor: zeros and empty lists for the stranger, the owner's 3 frames.
    const strangerMonitor = await jsonOf(
      await get("telemetry-analytics", stranger.token, "/monitor"),
    );
    assertEquals(strangerMonitor.status, 200);
    assertEquals(strangerMonitor.body.scope, "devices");
    const monitor = strangerMonitor.body.monitor;
    assertEquals(monitor.frames_per_minute.length, 60);
    assertEquals(sumFrames(monitor), 0);
    assertEquals(
      [monitor.active_devices, monitor.active_flights, monitor.staging_backlog],
      [0, 0, 0],
    );
    assertEquals([monitor.last_flushes, monitor.devices], [[], []]);
    assertEquals(
      [monitor.oldest_pending_age_seconds, monitor.last_frame_at, monitor.database_size_bytes],
      [null, null, null],
    );
    assertEquals(JSON.stringify(strangerMonitor.body).includes(other.id), false);
    const ownerMonitor = (await jsonOf(await get("telemetry-analytics", owner.token, "/monitor")))
      .body.monitor;
    assertEquals(sumFrames(ownerMonitor), 3);
    assertEquals(ownerMonitor.staging_backlog, 3);
    assertEquals(ownerMonitor.active_devices, 1);
    assertEquals(ownerMonitor.devices.map((d: { device_id: string }) => d.device_id), [mine.id]);
    assertEquals(ownerMonitor.devices[0].staged_frames, 3);
    assertEquals(ownerMonitor.last_flushes, []);
    const serviceMonitor = await jsonOf(
      await get("telemetry-analytics", keys.serviceRoleKey, "/monitor"),
    );
    assertEquals(serviceMonitor.body.scope, "pipeline");
    assert(serviceMonitor.body.monitor.staging_backlog >= 43, "service role sees the flow");

    // Rollups and flights of the other tenant's device: 404, as for an unknown device.
    for (const path of ["", "/flights"]) {
      const answer = await get("telemetry-analytics", stranger.token, path, {
        device_id: other.id,
      });
      assertEquals(answer.status, 404, path);
      await answer.body?.cancel();
    }

    // telemetry-query over every device the stranger may see: none.
    const query = await jsonOf(await get("telemetry-query", stranger.token));
    assertEquals(query.status, 200);
    assertEquals([query.body.data, query.body.count], [[], 0]);
  } finally {
    assert((await flow.stop()) > 0, "the other tenant's frames flowed");
    await held;
  }
});
