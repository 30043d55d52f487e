/**
 * `deno task import-ulog` end to end with a real PX4 log: the importer runs as its own process
 * and sends through the gateway; the test reads the same log with the ULog reader, computes
 * what each mapped topic should have stored (its own arithmetic, not the importer's) and compares
 * it with what Postgres holds. Also: a truncated copy fails naming the byte offset and keeps what
 * came before it, and importing the same log twice adds nothing. Then the flight the analytics
 * answer, for the one-frame-per-message import (`--raw`, sparse frames) and the default 10 Hz
 * one, against the log's own armed span and GPS track.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { join } from "node:path";
import { MessageType, ULog } from "@foxglove/ulog";
import { FIELD_BY_NAME } from "../../shared/catalogue/catalogue.ts";
import { PROJECT_ROOT } from "../../scripts/stack/layout.ts";
import {
  callFunction,
  createDevice,
  createUser,
  FUNCTIONS_URL,
  jsonOf,
  sql,
  type TestDevice,
} from "./_helpers.ts";

const LOG = join(PROJECT_ROOT, "tests", "fixtures", "px4_sample_log_small.ulg");
const D = 180 / Math.PI;

async function runImport(file: string, device: TestDevice, ...flags: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      ...["task", "-q", "import-ulog", file, "--device-key", device.key, "--url", FUNCTIONS_URL],
      ...flags,
    ],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

type Row = Record<string, number | string | boolean | null>;

async function storedRows(deviceId: string): Promise<Map<bigint, Row>> {
  const json = await sql(
    `select coalesce(json_agg(to_jsonb(f) - 'raw_data' - 'extra' || jsonb_build_object('us',
       (extract(epoch from f.recorded_at) * 1000000)::bigint::text)), '[]')
     from public.telemetry_frames as f where device_id = '${deviceId}'`,
  );
  const rows: Row[] = JSON.parse(json);
  return new Map(rows.map((row) => [BigInt(String(row.us)), row]));
}

const n = (v: unknown) => (typeof v === "bigint" ? Number(v) : v as number);
const list = (v: unknown, i: number) => n((v as unknown[])[i]);

/** What each topic should store, written independently of scripts/ulog/mapping.ts. */
const EXPECTED: Record<string, (m: Record<string, unknown>) => Row> = {
  "vehicle_attitude": (m) => {
    const [w, x, y, z] = [0, 1, 2, 3].map((i) => list(m.q, i)) as number[];
    // Rotation matrix elements of the quaternion, then ZYX Euler angles.
    const r11 = 1 - 2 * (y! * y! + z! * z!), r21 = 2 * (x! * y! + w! * z!);
    const r31 = 2 * (x! * z! - w! * y!), r32 = 2 * (y! * z! + w! * x!);
    const r33 = 1 - 2 * (x! * x! + y! * y!);
    return {
      roll_degrees: Math.atan2(r32, r33) * D,
      pitch_degrees: -Math.asin(r31) * D,
      yaw_degrees: Math.atan2(r21, r11) * D,
    };
  },
  "vehicle_angular_velocity": (m) => ({
    roll_rate_dps: list(m.xyz, 0) * D,
    pitch_rate_dps: list(m.xyz, 1) * D,
    yaw_rate_dps: list(m.xyz, 2) * D,
  }),
  "sensor_combined": (m) => ({
    accel_x_ms2: list(m.accelerometer_m_s2, 0),
    accel_y_ms2: list(m.accelerometer_m_s2, 1),
    accel_z_ms2: list(m.accelerometer_m_s2, 2),
  }),
  "vehicle_gps_position": (m) => ({
    gps_latitude: n(m.lat) / 1e7,
    gps_longitude: n(m.lon) / 1e7,
    gps_altitude_m: n(m.alt) / 1000,
    gps_speed_ms: n(m.vel_m_s),
    gps_course_degrees: (n(m.cog_rad) * D + 360) % 360,
    gps_hdop: n(m.hdop),
    gps_vdop: n(m.vdop),
    gps_fix_type: n(m.fix_type),
    gps_satellites: n(m.satellites_used),
  }),
  "vehicle_local_position": (m) => ({
    position_x_m: n(m.x),
    position_y_m: n(m.y),
    position_z_m: n(m.z),
    velocity_x_ms: n(m.vx),
    velocity_y_ms: n(m.vy),
    velocity_z_ms: n(m.vz),
    climb_rate_ms: -n(m.vz),
    heading_degrees: (n(m.heading) * D + 360) % 360,
  }),
  "battery_status": (m) => ({
    battery_voltage_v: n(m.voltage_v),
    battery_current_a: n(m.current_a),
    battery_consumed_mah: n(m.discharged_mah),
    battery_remaining_percent: n(m.remaining) * 100,
  }),
  "actuator_outputs": (m) =>
    Object.fromEntries(
      [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => i < n(m.noutputs))
        .map((i) => [`motor${i + 1}_pwm`, Math.round(list(m.output, i))]),
    ),
  "input_rc": (m) => ({
    ...Object.fromEntries(
      ["rc_roll", "rc_pitch", "rc_throttle", "rc_yaw", "rc_aux1", "rc_aux2", "rc_aux3", "rc_aux4"]
        .map((name, i) => [name, list(m.values, i)]),
    ),
    rssi_percent: n(m.rssi),
  }),
  "vehicle_status": (m) => ({
    armed: n(m.arming_state) === 2,
    failsafe_active: m.failsafe as boolean,
    flight_mode: ({ 0: "MANUAL", 1: "ALTCTL", 2: "POSCTL", 3: "AUTO_MISSION", 17: "AUTO_TAKEOFF" })[
      n(m.nav_state)
    ] ?? null,
  }),
  "vehicle_air_data": (m) => ({
    baro_altitude_m: n(m.baro_alt_meter),
    baro_pressure_pa: n(m.baro_pressure_pa),
    baro_temperature_c: n(m.baro_temp_celcius),
  }),
  "vehicle_magnetometer": (m) => ({
    magnetometer_x: list(m.magnetometer_ga, 0),
    magnetometer_y: list(m.magnetometer_ga, 1),
    magnetometer_z: list(m.magnetometer_ga, 2),
  }),
  "airspeed_validated": (m) => ({ airspeed_ms: n(m.indicated_airspeed_m_s) }),
  cpuload: (m) => ({ cpu_load_percent: n(m.load) * 100 }),
  "actuator_controls_0": (m) => ({ throttle_percent: list(m.control, 3) * 100 }),
};

/** Whether the catalogue can hold the value (NaN and out-of-range values are left out). */
function holdable(name: string, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value !== "number") return true;
  const spec = FIELD_BY_NAME.get(name);
  return Number.isFinite(value) && (spec?.min ?? -Infinity) <= value &&
    value <= (spec?.max ?? Infinity);
}

function close(stored: unknown, expected: unknown, name: string): boolean {
  if (typeof expected !== "number") return stored === expected;
  if (typeof stored !== "number") return false;
  // real columns keep float4 precision; latitude and longitude are double precision.
  const tolerance = name.startsWith("gps_l") ? 1e-9 : 1e-5 * Math.max(1, Math.abs(expected));
  return Math.abs(stored - expected) <= tolerance;
}

async function openLog(): Promise<ULog> {
  const bytes = await Deno.readFile(LOG);
  const ulog = new ULog({
    open: () => Promise.resolve(bytes.length),
    read: (offset, length) => Promise.resolve(bytes.slice(offset, offset + length)),
    size: () => bytes.length,
  });
  await ulog.open();
  return ulog;
}

Deno.test("import-ulog --raw stores every mapped topic of a real PX4 log, once, and survives a cut-off copy", async () => {
  const device = await createDevice(await createUser(), "ulog import");
  const bytes = await Deno.readFile(LOG);

  // A copy cut mid-message: the import fails naming the offset and keeps what came before.
  const cut = await Deno.makeTempFile({ suffix: ".ulg" });
  try {
    await Deno.writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const partial = await runImport(cut, device, "--raw");
    assertEquals(partial.code, 1, partial.stderr);
    assertMatch(partial.stderr, /Truncated log: the message at byte offset \d+ needs \d+ bytes/);
  } finally {
    await Deno.remove(cut);
  }
  const kept = (await storedRows(device.id)).size;
  assert(kept > 1000, `expected the frames before the cut to be stored, got ${kept}`);

  const full = await runImport(LOG, device, "--raw");
  assertEquals(full.code, 0, full.stderr + full.stdout);
  const rows = await storedRows(device.id);
  assert(rows.size > kept);

  // Compare with the log's own values, topic by topic.
  const ulog = await openLog();
  let boot: bigint | null = null;
  const checked: Record<string, number> = {};
  const problems: string[] = [];
  const frameTimes = new Set<bigint>();
  const pending: Array<{ at: bigint; topic: string; fields: Array<[string, unknown]> }> = [];
  for await (const message of ulog.readMessages({ includeLogs: false })) {
    if (message.type !== MessageType.Data) continue;
    const subscription = ulog.subscriptions.get(message.msgId);
    const expect = subscription?.multiId === 0 ? EXPECTED[subscription.name] : undefined;
    if (subscription === undefined || expect === undefined) continue;
    const value = message.value as Record<string, unknown> & { timestamp: bigint };
    if (boot === null && subscription.name === "vehicle_gps_position") {
      boot = (value.time_utc_usec as bigint) - value.timestamp;
    }
    const fields = Object.entries(expect(value)).filter(([name, v]) => holdable(name, v));
    if (fields.length === 0) continue;
    frameTimes.add(value.timestamp);
    checked[subscription.name] = (checked[subscription.name] ?? 0) + 1;
    // GPS UTC is known only from the first GPS message on; the frames before it are compared
    // at the end (see below), so keep them.
    pending.push({ at: value.timestamp, topic: subscription.name, fields });
  }
  if (boot === null) throw new Error("The sample log has no GPS time");
  const flightId = rows.values().next().value?.flight_id;
  assertMatch(String(flightId), /^ulog-[0-9a-f]{24}$/);
  for (const { at, topic, fields } of pending) {
    const row = rows.get(boot + at);
    if (row === undefined) {
      problems.push(`${topic} at ${at}: no frame stored`);
      continue;
    }
    for (const [name, expected] of fields) {
      if (!close(row[name], expected, name)) {
        problems.push(`${topic} at ${at}: ${name} stored ${row[name]}, log has ${expected}`);
      }
    }
    if (row.flight_id !== flightId) problems.push(`${topic} at ${at}: flight id ${row.flight_id}`);
  }
  assertEquals(problems.slice(0, 10), []);
  // Every mapped topic was compared, except airspeed_validated: this log's indicated airspeed is
  // negative throughout (on the ground, sensor offset), which airspeed_ms (0..500) cannot hold.
  assertEquals(
    Object.keys(checked).sort(),
    Object.keys(EXPECTED).filter((topic) => topic !== "airspeed_validated").sort(),
  );
  assertEquals(rows.size, frameTimes.size);

  // The same log again adds nothing.
  const again = await runImport(LOG, device, "--raw");
  assertEquals(again.code, 0, again.stderr);
  assertMatch(again.stdout, /batches were already imported/);
  assertEquals((await storedRows(device.id)).size, rows.size);

  // Sparse frames (each holds one message's fields), imported in two runs: the flight is right.
  await assertFlightMatchesLog(device, await logFacts());
  await removeFrames(device.id);
});

Deno.test("import-ulog at the default 10 Hz holds every field's latest value and its flight matches the log", async () => {
  const device = await createDevice(await createUser(), "ulog 10 Hz");
  const result = await runImport(LOG, device);
  assertEquals(result.code, 0, result.stderr + result.stdout);
  assertMatch(result.stdout, /Frames: +10 Hz/);
  assertMatch(result.stdout, /Altitude: +vehicle_air_data\.baro_alt_meter/);
  const facts = await logFacts();
  const rows = [...(await storedRows(device.id)).entries()].sort(([a], [b]) => Number(a - b));
  assert(rows.length > 60, `expected a frame every 100 ms over the log, got ${rows.length}`);
  const problems: string[] = [];
  for (const [i, [at, row]] of rows.entries()) {
    const previous = rows[i - 1]?.[0];
    if (at % 100_000n !== 0n) problems.push(`frame at ${at} is not on a 100 ms tick`);
    if (previous !== undefined && at - previous !== 100_000n) {
      problems.push(`frames at ${previous} and ${at} are not 100 ms apart`);
    }
    // Each field holds the newest value its topic logged at or before the frame's time.
    for (const [name, series] of Object.entries(facts.series)) {
      const expected = latestAt(series, at);
      if (!close(row[name] ?? null, expected, name)) {
        problems.push(`${name} at ${at}: stored ${row[name]}, latest logged ${expected}`);
      }
    }
  }
  assertEquals(problems.slice(0, 10), []);
  await assertFlightMatchesLog(device, facts);
  await removeFrames(device.id);
});

type Series = Array<[bigint, unknown]>;

interface LogFacts {
  /** Armed time: from the first status that says armed to the next that does not. */
  armedSeconds: number;
  /** The sum of the steps between consecutive GPS fixes. */
  gpsDistanceM: number;
  /** Per field, the values the log holds over time (microseconds since the epoch). */
  series: Record<string, Series>;
}

/** What the log itself says about its flight, with this test's own arithmetic. */
async function logFacts(): Promise<LogFacts> {
  const ulog = await openLog();
  const names = new Map(
    [...ulog.subscriptions].filter(([, s]) => s.multiId === 0).map(([id, s]) => [id, s.name]),
  );
  let boot: bigint | null = null;
  const series: Record<string, Series> = { "altitude_m": [], armed: [], "gps_latitude": [] };
  const status: Series = [];
  const fixes: Array<[number, number]> = [];
  for await (const message of ulog.readMessages({ includeLogs: false })) {
    if (message.type !== MessageType.Data) continue;
    const value = message.value as Record<string, unknown> & { timestamp: bigint };
    const name = names.get(message.msgId);
    if (name === "vehicle_gps_position") {
      boot ??= (value.time_utc_usec as bigint) - value.timestamp;
      fixes.push([n(value.lat) / 1e7, n(value.lon) / 1e7]);
      series.gps_latitude!.push([value.timestamp, n(value.lat) / 1e7]);
    } else if (name === "vehicle_status") {
      status.push([value.timestamp, n(value.arming_state) === 2]);
    } else if (name === "vehicle_air_data") {
      series.altitude_m!.push([value.timestamp, n(value.baro_alt_meter)]);
    }
  }
  if (boot === null) throw new Error("The sample log has no GPS time");
  series.armed = status;
  for (const list of Object.values(series)) for (const entry of list) entry[0] += boot;
  const armedAt = status.find(([, armed]) => armed)?.[0];
  const disarmedAt = status.find(([at, armed]) => !armed && at > (armedAt ?? 0n))?.[0];
  if (armedAt === undefined || disarmedAt === undefined) throw new Error("No armed span");
  let distance = 0;
  for (let i = 1; i < fixes.length; i++) distance += haversine(fixes[i - 1]!, fixes[i]!);
  return { armedSeconds: Number(disarmedAt - armedAt) / 1e6, gpsDistanceM: distance, series };
}

/** The value of the last entry at or before `at`, or null. */
function latestAt(series: Series, at: bigint): unknown {
  let value: unknown = null;
  for (const [time, v] of series) if (time <= at) value = v;
  return value;
}

function haversine([lat1, lon1]: [number, number], [lat2, lon2]: [number, number]): number {
  const r = Math.PI / 180;
  const a = Math.sin((lat2 - lat1) * r / 2) ** 2 +
    Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin((lon2 - lon1) * r / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * After a flush, the device's one flight has the log's armed time within 0.5 s and its GPS
 * distance within 10%, and the hourly rollups add up to the same.
 */
async function assertFlightMatchesLog(device: TestDevice, facts: LogFacts): Promise<void> {
  await sql("select public.flush_telemetry()");
  const get = (path: string, query: Record<string, string>) =>
    callFunction("telemetry-analytics", {
      path,
      query: { device_id: device.id, ...query },
      headers: { authorization: `Bearer ${device.owner.token}` },
    }).then(jsonOf);
  const flights = await get("/flights", {});
  assertEquals(flights.status, 200, JSON.stringify(flights.body));
  assertEquals(flights.body.flights.length, 1);
  const flight = flights.body.flights[0];
  assert(
    Math.abs(flight.armed_seconds - facts.armedSeconds) <= 0.5,
    `armed_seconds ${flight.armed_seconds}, the log is armed for ${facts.armedSeconds} s`,
  );
  assert(
    Math.abs(flight.distance_m - facts.gpsDistanceM) <= 0.1 * facts.gpsDistanceM,
    `distance_m ${flight.distance_m}, the log's GPS fixes add up to ${facts.gpsDistanceM} m`,
  );
  const rollups = await get("", {
    bucket: "hour",
    from: flight.started_at.slice(0, 13) + ":00:00Z",
    to: new Date(Date.parse(flight.ended_at) + 3600_000).toISOString(),
  });
  assertEquals(rollups.status, 200, JSON.stringify(rollups.body));
  const sum = (key: string) =>
    rollups.body.buckets.reduce((total: number, b: Record<string, number>) => total + b[key]!, 0);
  assert(Math.abs(sum("armed_seconds") - flight.armed_seconds) < 1e-6, "rollups agree: armed");
  assert(Math.abs(sum("distance_m") - flight.distance_m) < 1e-6, "rollups agree: distance");
}

/**
 * The log is from 2021, older than the 12-month retention: its frames sit in the default
 * partition, where the retention pgTAP test counts what it deletes. Leave none behind.
 */
async function removeFrames(deviceId: string): Promise<void> {
  await sql(`delete from telemetry.telemetry_staging where device_id = '${deviceId}';
             delete from telemetry.telemetry where device_id = '${deviceId}'`);
}
