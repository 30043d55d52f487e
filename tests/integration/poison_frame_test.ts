/**
 * A poison frame staged (issue 21 §1): a request whose literal Postgres refuses (roll_degrees
 * 1e-50, out of range for real), inserted straight into staging as a device that bypassed an
 * older parser would have left it. While it is staged, no endpoint fails: monitor, batch status,
 * resume point, queries of staged frames (with and without a flight), analytics, PostgREST's
 * telemetry_frames. Then the flush sets it aside and stores the device's good frames.
 *
 * The flush lock is held by a psql session for the test's duration, so the pg_cron flush cannot
 * set the poison aside before the endpoints are called.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { encodeFrameValues } from "../../shared/ingest/frame_values.ts";
import type { TelemetryRow } from "../../shared/catalogue/frame_schema.ts";
import { DB_PASSWORD, PORTS } from "../../scripts/stack/layout.ts";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  REST_URL,
  sendTelemetry,
  sql,
  stackKeys,
} from "./_helpers.ts";

/** Holds the flush's advisory lock in a psql session of its own until released. */
async function holdFlushLock(): Promise<{ release: () => Promise<void> }> {
  const child = new Deno.Command("psql", {
    args: ["-h", "127.0.0.1", "-p", String(PORTS.postgres), "-U", "postgres", "-d", "postgres"]
      .concat(["-X", "-q", "-At"]),
    env: { PGPASSWORD: DB_PASSWORD },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(
    "select 'locked' from pg_catalog.pg_advisory_lock(pg_catalog.hashtextextended('telemetry.flush', 0));\n",
  ));
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("psql ended before it held the flush lock");
    seen += value;
  }
  return {
    release: async () => {
      await writer.close(); // psql exits, and its session's lock goes with it
      await reader.cancel();
      await child.status;
    },
  };
}

const get = (name: string, token: string, path = "", query: Record<string, string> = {}) =>
  callFunction(name, { path, query, headers: { authorization: `Bearer ${token}` } });

Deno.test("no endpoint fails while a poison request is staged; the flush then sets it aside", async () => {
  const owner = await createUser();
  const device = await createDevice(owner);
  const base = Date.now() - 60_000;
  const at = (s: number) => new Date(base + s * 1000).toISOString();
  const lock = await holdFlushLock();
  try {
    const sent = await sendTelemetry(
      device,
      `ts:${at(0)},roll:5,flight_id:f1\nts:${at(1)},roll:6,flight_id:f1`,
    );
    assertEquals((await jsonOf(sent)).status, 200);
    // The literal a parser before this fix wrote for `ts:<at(2)>,roll:1e-50,flight_id:f1`.
    const poison = encodeFrameValues([{
      "recorded_at": at(2).replace("Z", "000Z"),
      "roll_degrees": 1e-50,
      "flight_id": "f1",
      "raw_data": `ts:${at(2)},roll:1e-50,flight_id:f1`,
      "parser_version": "1.9.0",
      "data_source": "kv",
    } as TelemetryRow]);
    await sql(`insert into telemetry.telemetry_staging (device_id, frame_count, frames)
               values ('${device.id}', 1, '${poison}')`);
    await assertRejects(
      () => sql(`select '${poison}'::telemetry.frame_values[]`),
      Error,
      "out of range for type real",
    );

    const monitor = await jsonOf(await get("telemetry-analytics", owner.token, "/monitor"));
    assertEquals(monitor.status, 200, JSON.stringify(monitor.body));
    assert(monitor.body.monitor.staging_backlog >= 3);

    const status = await jsonOf(await get("telemetry-batch-status", owner.token));
    assertEquals(status.status, 200, JSON.stringify(status.body));
    assert(status.body.batch_status.pending_records >= 3);

    // The resume point is the newest good frame: the poison is hidden until it is set aside.
    const resume = await jsonOf(await get("telemetry-parse", device.key));
    assertEquals(resume.status, 200, JSON.stringify(resume.body));
    assertEquals(Date.parse(resume.body.last_recorded_at), Date.parse(at(1)));

    for (
      const query of [{ "device_id": device.id }, { "device_id": device.id, "flight_id": "f1" }]
    ) {
      const page = await jsonOf(await get("telemetry-query", owner.token, "", query));
      assertEquals(page.status, 200, JSON.stringify(page.body));
      assertEquals(
        page.body.data.map((f: { roll_degrees: number }) => f.roll_degrees).sort(),
        [5, 6],
      );
    }

    const keys = await stackKeys();
    // PostgREST serves telemetry_frames to service role only (20261204030100).
    const rest = await fetch(`${REST_URL}/telemetry_frames?device_id=eq.${device.id}`, {
      headers: { apikey: keys.serviceRoleKey, authorization: `Bearer ${keys.serviceRoleKey}` },
    });
    assertEquals(rest.status, 200);
    assertEquals((await rest.json()).length, 2);

    const rollups = { "device_id": device.id, from: at(-3600), to: at(3600) };
    for (
      const [path, query] of [["", rollups], ["/flights", { "device_id": device.id }]] as const
    ) {
      const analytics = await jsonOf(await get("telemetry-analytics", owner.token, path, query));
      assertEquals(analytics.status, 200, `${path}: ${JSON.stringify(analytics.body)}`);
    }
  } finally {
    await lock.release();
  }

  // The flush (the test's, or pg_cron's if it comes first) sets the poison aside alone.
  for (let i = 0; i < 20; i++) {
    await sql(`select public.flush_telemetry()`);
    const staged = await sql(
      `select count(*) from telemetry.telemetry_staging where device_id = '${device.id}'`,
    );
    if (staged === "0") break;
  }
  assertEquals(
    await sql(`select count(*) from telemetry.telemetry where device_id = '${device.id}'`),
    "2",
  );
  const reason = await sql(
    `select reason from telemetry.telemetry_rejects where device_id = '${device.id}'`,
  );
  assert(reason.startsWith("the flush refused these 1 frames:"), reason);
  assert(reason.includes("out of range for type real"), reason);
});
