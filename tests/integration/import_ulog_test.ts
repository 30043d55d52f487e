/**
 * `deno task import-ulog` end to end with a real PX4 log: the importer runs as its own process
 * and sends through the gateway; the test reads the same log with the ULog reader, computes
 * what each mapped topic should have stored (its own arithmetic, not the importer's) and compares
 * it with what Postgres holds. Also: a truncated copy fails naming the byte offset and keeps what
 * came before it, and importing the same log twice adds nothing.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { join } from "node:path";
import { MessageType, ULog } from "@foxglove/ulog";
import { FIELD_BY_NAME } from "../../shared/catalogue/catalogue.ts";
import { PROJECT_ROOT } from "../../scripts/stack/layout.ts";
import { createDevice, createUser, FUNCTIONS_URL, sql, type TestDevice } from "./_helpers.ts";

const LOG = join(PROJECT_ROOT, "tests", "fixtures", "px4_sample_log_small.ulg");
const D = 180 / Math.PI;

async function runImport(file: string, device: TestDevice) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "import-ulog", file, "--device-key", device.key, "--url", FUNCTIONS_URL],
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

Deno.test("import-ulog stores every mapped topic of a real PX4 log, once, and survives a cut-off copy", async () => {
  const device = await createDevice(await createUser(), "ulog import");
  const bytes = await Deno.readFile(LOG);

  // A copy cut mid-message: the import fails naming the offset and keeps what came before.
  const cut = await Deno.makeTempFile({ suffix: ".ulg" });
  try {
    await Deno.writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const partial = await runImport(cut, device);
    assertEquals(partial.code, 1, partial.stderr);
    assertMatch(partial.stderr, /Truncated log: the message at byte offset \d+ needs \d+ bytes/);
  } finally {
    await Deno.remove(cut);
  }
  const kept = (await storedRows(device.id)).size;
  assert(kept > 1000, `expected the frames before the cut to be stored, got ${kept}`);

  const full = await runImport(LOG, device);
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
  const again = await runImport(LOG, device);
  assertEquals(again.code, 0, again.stderr);
  assertMatch(again.stdout, /batches were already imported/);
  assertEquals((await storedRows(device.id)).size, rows.size);
  await removeFrames(device.id);
});

/**
 * The log is from 2021, older than the 12-month retention: its frames sit in the default
 * partition, where the retention pgTAP test counts what it deletes. Leave none behind.
 */
async function removeFrames(deviceId: string): Promise<void> {
  await sql(`delete from telemetry.telemetry_staging where device_id = '${deviceId}';
             delete from telemetry.telemetry where device_id = '${deviceId}'`);
}
