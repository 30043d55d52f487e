/**
 * telemetry-analytics end to end: through the gateway to the real function, PostgREST (RLS on
 * the rollup and flight views), Postgres (rollups kept by the flush, monitoring functions) and
 * Redis (the answer cache). Frames are stored with public.ingest_telemetry and flushed in SQL.
 */
import { assert, assertEquals } from "@std/assert";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sql,
  stackKeys,
  type TestDevice,
} from "./_helpers.ts";

/**
 * 90 frames of flight "f1" one a second from 10:59:00 (so two hours), armed, 0.0001 degree of
 * latitude (about 11 m) apart, and 5 frames of flight "f2" on the next day; then a flush.
 */
async function seededDevice(): Promise<TestDevice> {
  const device = await createDevice(await createUser());
  await sql(`select public.ingest_telemetry('${device.id}', (
    select jsonb_agg(jsonb_build_object(
      'recorded_at', '2026-10-01 10:59:00+00'::timestamptz + g * interval '1 second',
      'flight_id', 'f1', 'armed', true, 'altitude_m', g, 'battery_voltage_v', 16,
      'groundspeed_ms', g % 10, 'gps_latitude', 47 + g * 0.0001, 'gps_longitude', 8))
    from generate_series(0, 89) as g))`);
  await sql(`select public.ingest_telemetry('${device.id}', (
    select jsonb_agg(jsonb_build_object(
      'recorded_at', '2026-10-02 08:00:00+00'::timestamptz + g * interval '1 second',
      'flight_id', 'f2', 'armed', false, 'altitude_m', 5))
    from generate_series(0, 4) as g))`);
  await sql(`select public.flush_telemetry()`);
  return device;
}

function get(token: string, path: string, query: Record<string, string> = {}) {
  return callFunction("telemetry-analytics", {
    path,
    query,
    headers: { authorization: `Bearer ${token}` },
  });
}

const WINDOW = { from: "2026-10-01T00:00:00Z", to: "2026-10-03T00:00:00Z" };

Deno.test("telemetry-analytics answers a device's hourly rollups, cached", async () => {
  const device = await seededDevice();
  const query = { "device_id": device.id, ...WINDOW };
  const response = await get(device.owner.token, "", query);
  assertEquals(response.headers.get("cache-control"), "private, max-age=10");
  const { status, body } = await jsonOf(response);
  assertEquals(status, 200);
  assertEquals(body.cached, false);
  assertEquals(body.bucket, "hour");
  const rows = body.buckets.map((b: Record<string, number>) => [
    b.bucket_start,
    b.frames,
    b.min_altitude_m,
    b.max_altitude_m,
    b.avg_battery_voltage_v,
    b.max_groundspeed_ms,
    Math.round(b.distance_m ?? NaN),
    b.armed_seconds,
  ]);
  assertEquals(rows, [
    ["2026-10-01T10:00:00+00:00", 60, 0, 59, 16, 9, Math.round(59 * 11.12), 59],
    ["2026-10-01T11:00:00+00:00", 30, 60, 89, 16, 9, Math.round(30 * 11.12), 30],
    ["2026-10-02T08:00:00+00:00", 5, 5, 5, null, null, 0, 0],
  ]);
  const again = await jsonOf(await get(device.owner.token, "", query));
  assertEquals(again.body.cached, true);
  assertEquals(again.body.buckets, body.buckets);
});

Deno.test("telemetry-analytics answers daily buckets and narrows to a flight", async () => {
  const device = await seededDevice();
  const daily = await jsonOf(
    await get(device.owner.token, "", { device_id: device.id, bucket: "day", ...WINDOW }),
  );
  assertEquals(
    daily.body.buckets.map((b: { frames: number; armed_seconds: number }) => [
      b.frames,
      b.armed_seconds,
    ]),
    [[90, 89], [5, 0]],
  );
  const flight = await jsonOf(
    await get(device.owner.token, "", { device_id: device.id, flight_id: "f2", bucket: "day" }),
  );
  assertEquals(flight.status, 200);
  assertEquals(flight.body.buckets.map((b: { frames: number }) => b.frames), [5]);
});

Deno.test("telemetry-analytics lists a device's flights, newest first", async () => {
  const device = await seededDevice();
  const { status, body } = await jsonOf(
    await get(device.owner.token, "/flights", { device_id: device.id }),
  );
  assertEquals(status, 200);
  assertEquals(
    body.flights.map((f: Record<string, unknown>) => [
      f.flight_id,
      f.started_at,
      f.ended_at,
      f.duration_seconds,
      f.frames,
      Math.round(f.distance_m as number),
    ]),
    [
      ["f2", "2026-10-02T08:00:00+00:00", "2026-10-02T08:00:04+00:00", 4, 5, 0],
      [
        "f1",
        "2026-10-01T10:59:00+00:00",
        "2026-10-01T11:00:29+00:00",
        89,
        90,
        Math.round(89 * 11.12),
      ],
    ],
  );
});

Deno.test("telemetry-analytics answers another tenant's device as it answers an unknown one", async () => {
  const device = await seededDevice();
  const bob = await createUser();
  for (const path of ["", "/flights"]) {
    const theirs = await jsonOf(await get(bob.token, path, { device_id: device.id }));
    const unknownId = crypto.randomUUID();
    const unknown = await jsonOf(await get(bob.token, path, { device_id: unknownId }));
    assertEquals([theirs.status, unknown.status], [404, 404], path);
    assertEquals(
      theirs.body.error.message.replace(device.id, "<id>"),
      unknown.body.error.message.replace(unknownId, "<id>"),
    );
  }
  const anonymous = await jsonOf(
    await callFunction("telemetry-analytics", { query: { device_id: device.id } }),
  );
  assertEquals(anonymous.status, 401);
});

Deno.test("telemetry-analytics answers 400 naming the bad parameter", async () => {
  const user = await createUser();
  const id = crypto.randomUUID();
  const cases: [string, Record<string, string>, string][] = [
    ["", { device_id: id, bucket: "week" }, "bucket"],
    ["", { device_id: id, from: "2026-10-02T00:00:00Z", to: "2026-10-01T00:00:00Z" }, "to"],
    ["", { device_id: id, from: "yesterday" }, "from"],
    ["", { device_id: id, limit: "5" }, "limit"],
    ["", {}, "device_id"],
    ["/flights", { device_id: id, limit: "0" }, "limit"],
    ["/monitor", { verbose: "1" }, "verbose"],
  ];
  for (const [path, query, parameter] of cases) {
    const { status, body } = await jsonOf(await get(user.token, path, query));
    assertEquals(
      [status, body.error.details[0].parameter],
      [400, parameter],
      `${path} ${parameter}`,
    );
  }
});

Deno.test("telemetry-analytics monitor answers operators; internals only service role", async () => {
  await seededDevice();
  const user = await createUser();
  const response = await get(user.token, "/monitor");
  assertEquals(response.headers.get("cache-control"), "private, max-age=5");
  const own = (await jsonOf(response)).body;
  assertEquals(own.scope, "devices");
  assertEquals(own.monitor.frames_per_minute.length, 60);
  assertEquals(own.monitor.last_flushes, []);

  const keys = await stackKeys();
  const pipeline = (await jsonOf(await get(keys.serviceRoleKey, "/monitor"))).body;
  assertEquals(pipeline.scope, "pipeline");
  const monitor = pipeline.monitor;
  assertEquals(monitor.frames_per_minute.length, 60);
  for (
    const key of [
      "active_devices",
      "active_flights",
      "staging_backlog",
      "oldest_pending_age_seconds",
      "database_size_bytes",
      "cache_hit_rate",
    ]
  ) {
    assert(key in monitor, key);
  }
  assert(monitor.last_flushes.length >= 1);

  assertEquals((await jsonOf(await get(user.token, "/internals"))).status, 403);
  const internals = await jsonOf(await get(keys.serviceRoleKey, "/internals"));
  assertEquals(internals.status, 200);
  assert(internals.body.internals.index_usage.length > 0);
  assert(Array.isArray(internals.body.internals.slow_queries));
  assert(internals.body.internals.table_stats.length > 0);
});
