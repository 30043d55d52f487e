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
  sendTelemetry,
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

Deno.test("telemetry-analytics counts a device that sends only what changed, as its frames say", async () => {
  // 60 s at 5 Hz through telemetry-parse: every frame holds roll; `armed` only when it changes
  // (true at 5 s, false at 45 s); a GPS fix only once a second (about 1.1 m north each).
  const device = await createDevice(await createUser(), "sparse sender");
  const start = Date.parse("2026-10-03T09:00:00Z");
  const frames = Array.from({ length: 300 }, (_, i) => {
    const frame: Record<string, unknown> = {
      ts: new Date(start + i * 200).toISOString(),
      "flight_id": "sparse",
      roll: i % 7,
    };
    if (i === 25) frame.armed = 1;
    if (i === 225) frame.armed = 0;
    if (i % 5 === 0) Object.assign(frame, { lat: 47 + i * 0.000002, lon: 8 });
    return frame;
  });
  // Six requests, flushed in between: the state carries across flush chunks.
  for (let part = 0; part < 6; part++) {
    const lines = frames.slice(part * 50, part * 50 + 50).map((f) => JSON.stringify(f));
    const sent = await sendTelemetry(device, lines.join("\n"), {
      "content-type": "application/x-ndjson",
    });
    assertEquals(sent.status, 200, await sent.text());
    if (part % 2 === 1) await sql("select public.flush_telemetry()");
  }
  await sql("select public.flush_telemetry()");

  const at = (frame: Record<string, unknown>) => Date.parse(String(frame.ts)) / 1000;
  const armedFrom = at(frames.find((f) => f.armed === 1)!);
  const armedTo = at(frames.find((f) => f.armed === 0)!);
  const fixes = frames.filter((f) => typeof f.lat === "number") as { lat: number; lon: number }[];
  let distance = 0;
  for (let i = 1; i < fixes.length; i++) {
    const [a, b] = [fixes[i - 1]!, fixes[i]!];
    distance += haversine(a.lat, a.lon, b.lat, b.lon);
  }

  const flights = await jsonOf(
    await get(device.owner.token, "/flights", { device_id: device.id }),
  );
  assertEquals(flights.status, 200);
  const [flight] = flights.body.flights;
  assert(
    Math.abs(flight.armed_seconds - (armedTo - armedFrom)) <= 0.5,
    `armed_seconds ${flight.armed_seconds}, the frames say ${armedTo - armedFrom}`,
  );
  assert(
    Math.abs(flight.distance_m - distance) <= 0.1 * distance,
    `distance_m ${flight.distance_m}, the fixes add up to ${distance}`,
  );
  const hourly = await jsonOf(
    await get(device.owner.token, "", {
      device_id: device.id,
      from: "2026-10-03T09:00:00Z",
      to: "2026-10-03T10:00:00Z",
    }),
  );
  const [bucket] = hourly.body.buckets;
  assertEquals(bucket.frames, 300);
  assert(Math.abs(bucket.armed_seconds - flight.armed_seconds) < 1e-6, "rollup and flight agree");
  assert(Math.abs(bucket.distance_m - flight.distance_m) < 1e-6, "rollup and flight agree");
});

/** Great-circle distance in metres (this test's own arithmetic, not the database's). */
function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin((lat2 - lat1) * r / 2) ** 2 +
    Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin((lon2 - lon1) * r / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}
