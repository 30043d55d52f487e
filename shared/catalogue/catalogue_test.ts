import { assert, assertEquals, assertNotEquals } from "@std/assert";
import {
  FIELD_BY_NAME,
  FIELD_NAMES,
  FIELDS,
  type FieldSpec,
  findField,
  isFieldName,
  KEY_LOOKUP,
  METADATA_KEYS,
  resolveKey,
  telemetryFieldDescriptions,
} from "./catalogue.ts";
import { MAX_KEY_LENGTH } from "./frame_schema.ts";

/** The contract's column list (/tmp/contract.md), in order, as "name: sql type". */
const CONTRACT_COLUMNS: ReadonlyArray<readonly [string, FieldSpec["sqlType"]]> = [
  ["flight_mode", "text"],
  ["armed", "boolean"],
  ["flight_time_seconds", "real"],
  ["cpu_load_percent", "real"],
  ["roll_degrees", "real"],
  ["pitch_degrees", "real"],
  ["yaw_degrees", "real"],
  ["heading_degrees", "real"],
  ["roll_rate_dps", "real"],
  ["pitch_rate_dps", "real"],
  ["yaw_rate_dps", "real"],
  ["accel_x_ms2", "real"],
  ["accel_y_ms2", "real"],
  ["accel_z_ms2", "real"],
  ["gps_fix_type", "smallint"],
  ["gps_satellites", "smallint"],
  ["gps_latitude", "double precision"],
  ["gps_longitude", "double precision"],
  ["gps_altitude_m", "real"],
  ["gps_speed_ms", "real"],
  ["gps_course_degrees", "real"],
  ["gps_hdop", "real"],
  ["gps_vdop", "real"],
  ["baro_altitude_m", "real"],
  ["baro_pressure_pa", "real"],
  ["baro_temperature_c", "real"],
  ["altitude_m", "real"],
  ["battery_voltage_v", "real"],
  ["battery_current_a", "real"],
  ["battery_consumed_mah", "real"],
  ["battery_remaining_percent", "real"],
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => [`motor${n}_pwm`, "integer"] as const),
  ...["roll", "pitch", "yaw"].flatMap((axis) =>
    ["p", "i", "d"].map((term) => [`pid_${axis}_${term}`, "real"] as const)
  ),
  ...["roll", "pitch", "throttle", "yaw", "aux1", "aux2", "aux3", "aux4"].map(
    (name) => [`rc_${name}`, "real"] as const,
  ),
  ["velocity_x_ms", "real"],
  ["velocity_y_ms", "real"],
  ["velocity_z_ms", "real"],
  ["position_x_m", "real"],
  ["position_y_m", "real"],
  ["position_z_m", "real"],
  ["magnetometer_x", "real"],
  ["magnetometer_y", "real"],
  ["magnetometer_z", "real"],
  ["temperature_c", "real"],
  ["humidity_percent", "real"],
  ["failsafe_active", "boolean"],
  ["vibration_x", "real"],
  ["vibration_y", "real"],
  ["vibration_z", "real"],
  ["airspeed_ms", "real"],
  ["groundspeed_ms", "real"],
  ["climb_rate_ms", "real"],
  ["throttle_percent", "real"],
  ["rssi_percent", "real"],
];

const KIND_OF: Record<FieldSpec["sqlType"], FieldSpec["kind"]> = {
  "real": "number",
  "double precision": "number",
  "integer": "integer",
  "smallint": "integer",
  "boolean": "boolean",
  "text": "text",
};

const FLOAT4_MAX = 3.4e38;

Deno.test("FIELD_NAMES lists exactly the contract's columns in order", () => {
  assertEquals(FIELD_NAMES, CONTRACT_COLUMNS.map(([name]) => name));
  assertEquals(FIELDS.length, 76);
});

Deno.test("FIELDS has unique names that are valid Postgres identifiers", () => {
  assertEquals(new Set(FIELD_NAMES).size, FIELD_NAMES.length);
  for (const name of FIELD_NAMES) {
    assert(/^[a-z][a-z0-9_]{0,62}$/.test(name), name);
  }
});

Deno.test("FIELDS gives each column the contract's SQL type", async (t) => {
  for (const [name, sqlType] of CONTRACT_COLUMNS) {
    await t.step(name, () => assertEquals(FIELD_BY_NAME.get(name)?.sqlType, sqlType));
  }
});

Deno.test("FIELDS gives each field the kind its SQL type implies", async (t) => {
  for (const spec of FIELDS) {
    await t.step(spec.name, () => assertEquals(spec.kind, KIND_OF[spec.sqlType]));
  }
});

Deno.test("FIELDS gives numeric fields a finite range the column type can hold", async (t) => {
  for (const spec of FIELDS) {
    if (spec.kind !== "number" && spec.kind !== "integer") continue;
    await t.step(spec.name, () => {
      assert(Number.isFinite(spec.min) && Number.isFinite(spec.max));
      assert(spec.min < spec.max, `${spec.min} < ${spec.max}`);
      assertEquals(spec.maxLength, null);
      const limit = spec.sqlType === "smallint"
        ? 32767
        : spec.sqlType === "integer"
        ? 2147483647
        : spec.sqlType === "real"
        ? FLOAT4_MAX
        : Number.MAX_VALUE;
      assert(spec.min >= -limit - 1 && spec.max <= limit);
    });
  }
});

Deno.test("FIELDS gives non-numeric fields no range and text fields a length", async (t) => {
  for (const spec of FIELDS) {
    if (spec.kind === "number" || spec.kind === "integer") continue;
    await t.step(spec.name, () => {
      assertEquals([spec.min, spec.max, spec.unit], [null, null, null]);
      assertEquals(spec.maxLength, spec.kind === "text" ? 32 : null);
    });
  }
});

Deno.test("FIELDS gives every field a one-line description and a group", async (t) => {
  for (const spec of FIELDS) {
    await t.step(spec.name, () => {
      assert(spec.description.length > 10 && spec.description.length < 120);
      assert(!/[\n\r]/.test(spec.description));
      assert(!spec.description.endsWith("."));
      assert(spec.group.length > 0);
    });
  }
});

Deno.test("FIELDS physical ranges match the reference bounds", () => {
  const range = (name: string) => {
    const spec = FIELD_BY_NAME.get(name);
    return [spec?.min, spec?.max];
  };
  assertEquals(range("roll_degrees"), [-180, 180]);
  assertEquals(range("pitch_degrees"), [-90, 90]);
  assertEquals(range("heading_degrees"), [0, 360]);
  assertEquals(range("gps_latitude"), [-90, 90]);
  assertEquals(range("gps_longitude"), [-180, 180]);
  assertEquals(range("battery_remaining_percent"), [0, 100]);
  assertEquals(range("gps_fix_type"), [0, 8]);
  assertEquals(range("motor1_pwm"), [0, 3000]);
});

Deno.test("aliases are unique lower-case keys that collide with no other name", () => {
  const owners = new Map<string, string>();
  for (const spec of FIELDS) owners.set(spec.name, spec.name);
  for (const [name, keys] of Object.entries(METADATA_KEYS)) {
    for (const key of keys) {
      assert(!owners.has(key), key);
      owners.set(key, name);
    }
  }
  for (const spec of FIELDS) {
    for (const alias of spec.aliases) {
      assertEquals(alias, alias.toLowerCase());
      assert(alias.length <= MAX_KEY_LENGTH);
      assertEquals(owners.get(alias), undefined, `${alias} of ${spec.name}`);
      owners.set(alias, spec.name);
    }
  }
  assertEquals(KEY_LOOKUP.size, owners.size);
});

Deno.test("resolveKey resolves every alias to its field", async (t) => {
  for (const spec of FIELDS) {
    for (const alias of [spec.name, ...spec.aliases]) {
      await t.step(`${alias} -> ${spec.name}`, () => {
        assertEquals(resolveKey(alias), { type: "field", name: spec.name, spec });
        assertEquals(findField(alias.toUpperCase())?.name, spec.name);
      });
    }
  }
});

Deno.test("resolveKey resolves the reference API's keys", async (t) => {
  const reference: ReadonlyArray<readonly [string, string]> = [
    ["roll", "roll_degrees"],
    ["pitch", "pitch_degrees"],
    ["yaw", "yaw_degrees"],
    ["alt", "altitude_m"],
    ["gps_lat", "gps_latitude"],
    ["gps_lon", "gps_longitude"],
    ["bat_v", "battery_voltage_v"],
    ["armed", "armed"],
  ];
  for (const [key, name] of reference) {
    await t.step(key, () => assertEquals(findField(key)?.name, name));
  }
});

Deno.test("resolveKey resolves common flight-controller and MAVLink names", async (t) => {
  const names: ReadonlyArray<readonly [string, string]> = [
    ["lat", "gps_latitude"],
    ["lon", "gps_longitude"],
    ["lng", "gps_longitude"],
    ["hdg", "heading_degrees"],
    ["heading", "heading_degrees"],
    ["vx", "velocity_x_ms"],
    ["vy", "velocity_y_ms"],
    ["vz", "velocity_z_ms"],
    ["voltage", "battery_voltage_v"],
    ["current", "battery_current_a"],
    ["batt_remaining", "battery_remaining_percent"],
    ["current_consumed", "battery_consumed_mah"],
    ["sats", "gps_satellites"],
    ["satellites_visible", "gps_satellites"],
    ["fix_type", "gps_fix_type"],
    ["hdop", "gps_hdop"],
    ["airspeed", "airspeed_ms"],
    ["groundspeed", "groundspeed_ms"],
    ["climb", "climb_rate_ms"],
    ["throttle", "throttle_percent"],
    ["rssi", "rssi_percent"],
    ["mode", "flight_mode"],
    ["failsafe", "failsafe_active"],
    ["temp", "temperature_c"],
    ["pressure", "baro_pressure_pa"],
    ["cpu_load", "cpu_load_percent"],
    ["ax", "accel_x_ms2"],
    ["gyro_z", "yaw_rate_dps"],
    ["mag_x", "magnetometer_x"],
    ["vibe_y", "vibration_y"],
    ["chan3_raw", "rc_throttle"],
    ["servo8_raw", "motor8_pwm"],
    ["roll_p", "pid_roll_p"],
    ["Yaw", "yaw_degrees"],
    ["BAT_V", "battery_voltage_v"],
    ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => [`m${n}`, `motor${n}_pwm`] as const),
  ];
  for (const [key, name] of names) {
    await t.step(key, () => assertEquals(findField(key)?.name, name));
  }
});

Deno.test("resolveKey resolves metadata keys and not unknown ones", async (t) => {
  for (const key of ["recorded_at", "ts", "time", "timestamp", "TS", "Timestamp"]) {
    await t.step(
      key,
      () => assertEquals(resolveKey(key), { type: "metadata", name: "recorded_at" }),
    );
  }
  await t.step("flight_id", () => {
    assertEquals(resolveKey("FLIGHT_ID"), { type: "metadata", name: "flight_id" });
  });
  for (const key of ["device_id", "id", "created_at", "extra", "raw_data", "rol", "", "roll "]) {
    await t.step(`unknown ${JSON.stringify(key)}`, () => assertEquals(resolveKey(key), undefined));
  }
});

Deno.test("findField returns undefined when the key is a metadata key", () => {
  assertEquals(findField("ts"), undefined);
  assertEquals(findField("flight_id"), undefined);
});

Deno.test("isFieldName accepts column names only when exact", () => {
  assert(isFieldName("roll_degrees"));
  assert(!isFieldName("roll"));
  assert(!isFieldName("ROLL_DEGREES"));
  assert(!isFieldName("recorded_at"));
});

Deno.test("telemetryFieldDescriptions maps every column to its description", () => {
  const descriptions = telemetryFieldDescriptions();
  assertEquals(Object.keys(descriptions), [...FIELD_NAMES]);
  assertEquals(descriptions["altitude_m"], FIELD_BY_NAME.get("altitude_m")?.description);
  descriptions["altitude_m"] = "changed";
  assertNotEquals(telemetryFieldDescriptions()["altitude_m"], "changed");
});

Deno.test("FIELDS serialises to JSON for the config endpoint", () => {
  const parsed: unknown = JSON.parse(JSON.stringify(FIELDS));
  assertEquals(parsed, FIELDS);
});
