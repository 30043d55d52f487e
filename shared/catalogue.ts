/**
 * The telemetry field catalogue: the one source of truth for every typed telemetry column.
 *
 * The parser, the zod schemas (`schemas/frame.ts`), the `config` function and the test that compares
 * the catalogue with the database columns all read {@link FIELDS}, so they cannot drift apart.
 * Aliases are names only: they never convert units (a device sending `alt` in feet is still read as
 * metres), which is why unit-bearing MAVLink names such as `relative_alt` (mm) or `press_abs` (hPa)
 * are deliberately not aliases.
 *
 * @module
 */

/** Postgres type of a catalogue column. */
export type SqlType = "real" | "double precision" | "integer" | "smallint" | "boolean" | "text";

/** JSON/TypeScript kind a value of the field has after parsing. */
export type FieldKind = "number" | "integer" | "boolean" | "text";

/** Group a field belongs to, for documentation and the config endpoint. */
export type FieldGroup =
  | "flight_control"
  | "attitude"
  | "rates"
  | "accelerometer"
  | "gps"
  | "barometer"
  | "altitude"
  | "battery"
  | "motors"
  | "pid"
  | "rc"
  | "velocity"
  | "position"
  | "magnetometer"
  | "environment"
  | "failsafe"
  | "vibration"
  | "mavlink";

/** One typed telemetry field: a column of the telemetry table. */
export interface FieldSpec {
  /** Database column name, also the canonical key in parsed frames. */
  readonly name: string;
  /** Postgres column type. */
  readonly sqlType: SqlType;
  /** Kind of the parsed value. */
  readonly kind: FieldKind;
  /** Unit of the value, or null when unitless. */
  readonly unit: string | null;
  /** Smallest accepted value (number and integer kinds), else null. */
  readonly min: number | null;
  /** Largest accepted value (number and integer kinds), else null. */
  readonly max: number | null;
  /** Longest accepted text in characters (text kind), else null. */
  readonly maxLength: number | null;
  /** Other names devices may send for this field (matched case-insensitively). */
  readonly aliases: readonly string[];
  /** One-line description, shown by the config endpoint. */
  readonly description: string;
  /** Group the field belongs to. */
  readonly group: FieldGroup;
}

/** A number or integer field: always has a range. */
export interface NumericFieldSpec extends FieldSpec {
  readonly kind: "number" | "integer";
  readonly min: number;
  readonly max: number;
  readonly maxLength: null;
}

/** A boolean field: no unit, range or length. */
export interface BooleanFieldSpec extends FieldSpec {
  readonly kind: "boolean";
  readonly unit: null;
  readonly min: null;
  readonly max: null;
  readonly maxLength: null;
}

/** A text field: always has a maximum length. */
export interface TextFieldSpec extends FieldSpec {
  readonly kind: "text";
  readonly unit: null;
  readonly min: null;
  readonly max: null;
  readonly maxLength: number;
}

interface RangeInput {
  readonly unit: string | null;
  readonly min: number;
  readonly max: number;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly group: FieldGroup;
}

type Plain = Omit<RangeInput, "min" | "max" | "unit">;

function numeric<const N extends string, const K extends "number" | "integer">(
  name: N,
  kind: K,
  sqlType: SqlType,
  input: RangeInput,
): NumericFieldSpec & { readonly name: N; readonly kind: K } {
  return { name, sqlType, kind, maxLength: null, ...input };
}

const real = <const N extends string>(name: N, input: RangeInput) =>
  numeric(name, "number", "real", input);
const double = <const N extends string>(name: N, input: RangeInput) =>
  numeric(name, "number", "double precision", input);
const integer = <const N extends string>(name: N, input: RangeInput) =>
  numeric(name, "integer", "integer", input);
const smallint = <const N extends string>(name: N, input: RangeInput) =>
  numeric(name, "integer", "smallint", input);

function boolean<const N extends string>(
  name: N,
  input: Plain,
): BooleanFieldSpec & { readonly name: N } {
  return {
    name,
    sqlType: "boolean",
    kind: "boolean",
    unit: null,
    min: null,
    max: null,
    maxLength: null,
    ...input,
  };
}

function text<const N extends string>(
  name: N,
  maxLength: number,
  input: Plain,
): TextFieldSpec & { readonly name: N } {
  return {
    name,
    sqlType: "text",
    kind: "text",
    unit: null,
    min: null,
    max: null,
    maxLength,
    ...input,
  };
}

const motor = <const N extends number>(n: N) =>
  integer(`motor${n}_pwm`, {
    unit: "us",
    min: 0,
    max: 3000,
    aliases: [`m${n}`, `motor${n}`, `mot${n}`, `esc${n}`, `motor_${n}`, `servo${n}_raw`],
    description: `Motor ${n} output (PWM pulse width in microseconds, 0 when stopped)`,
    group: "motors",
  });

const pid = <const A extends "roll" | "pitch" | "yaw", const T extends "p" | "i" | "d">(
  axis: A,
  term: T,
) =>
  real(`pid_${axis}_${term}`, {
    unit: null,
    min: -1e6,
    max: 1e6,
    aliases: [`${axis}_${term}`, `${term}_${axis}`],
    description: `PID controller ${axis} ${term.toUpperCase()} term`,
    group: "pid",
  });

const rc = <const N extends string>(
  name: N,
  channel: number,
  extra: readonly string[],
  description: string,
) =>
  real(name, {
    unit: null,
    min: -3000,
    max: 3000,
    aliases: [`rc${channel}`, `ch${channel}`, `rc_ch${channel}`, `chan${channel}_raw`, ...extra],
    description: `${description} (RC channel ${channel}: PWM microseconds or normalised)`,
    group: "rc",
  });

const axis3 = <const P extends string, const S extends string>(
  prefix: P,
  suffix: S,
  common: Omit<RangeInput, "aliases" | "description">,
  aliases: (a: "x" | "y" | "z") => readonly string[],
  description: (a: "X" | "Y" | "Z") => string,
) =>
  [
    real(`${prefix}x${suffix}`, {
      ...common,
      aliases: aliases("x"),
      description: description("X"),
    }),
    real(`${prefix}y${suffix}`, {
      ...common,
      aliases: aliases("y"),
      description: description("Y"),
    }),
    real(`${prefix}z${suffix}`, {
      ...common,
      aliases: aliases("z"),
      description: description("Z"),
    }),
  ] as const;

/**
 * Every typed telemetry field, in the order of the telemetry table's columns.
 * Ranges are physical plausibility bounds, wide enough for any real airframe and sensor.
 */
export const FIELDS = [
  // flight control
  text("flight_mode", 32, {
    aliases: ["mode", "flightmode", "fmode"],
    description: "Flight mode name reported by the flight controller (e.g. STABILIZE, LOITER)",
    group: "flight_control",
  }),
  boolean("armed", {
    aliases: ["arm", "is_armed", "armed_state"],
    description: "Whether the motors are armed",
    group: "flight_control",
  }),
  real("flight_time_seconds", {
    unit: "s",
    min: 0,
    max: 31_536_000,
    aliases: ["flight_time", "flighttime", "flight_time_s", "airtime"],
    description: "Time since take-off in seconds",
    group: "flight_control",
  }),
  real("cpu_load_percent", {
    unit: "%",
    min: 0,
    max: 100,
    aliases: ["cpu", "cpu_load", "cpuload", "load"],
    description: "Flight controller CPU load in percent",
    group: "flight_control",
  }),
  // attitude
  real("roll_degrees", {
    unit: "deg",
    min: -180,
    max: 180,
    aliases: ["roll", "roll_deg", "att_roll"],
    description: "Roll angle in degrees, positive right wing down",
    group: "attitude",
  }),
  real("pitch_degrees", {
    unit: "deg",
    min: -90,
    max: 90,
    aliases: ["pitch", "pitch_deg", "att_pitch"],
    description: "Pitch angle in degrees, positive nose up",
    group: "attitude",
  }),
  real("yaw_degrees", {
    unit: "deg",
    min: -360,
    max: 360,
    aliases: ["yaw", "yaw_deg", "att_yaw"],
    description: "Yaw angle in degrees (either -180..180 or 0..360 convention)",
    group: "attitude",
  }),
  real("heading_degrees", {
    unit: "deg",
    min: 0,
    max: 360,
    aliases: ["hdg", "heading", "heading_deg", "compass"],
    description: "Compass heading in degrees from north",
    group: "attitude",
  }),
  // rates
  real("roll_rate_dps", {
    unit: "deg/s",
    min: -4000,
    max: 4000,
    aliases: ["roll_rate", "gyro_x", "gyro_roll", "rate_roll"],
    description: "Roll rate in degrees per second",
    group: "rates",
  }),
  real("pitch_rate_dps", {
    unit: "deg/s",
    min: -4000,
    max: 4000,
    aliases: ["pitch_rate", "gyro_y", "gyro_pitch", "rate_pitch"],
    description: "Pitch rate in degrees per second",
    group: "rates",
  }),
  real("yaw_rate_dps", {
    unit: "deg/s",
    min: -4000,
    max: 4000,
    aliases: ["yaw_rate", "gyro_z", "gyro_yaw", "rate_yaw"],
    description: "Yaw rate in degrees per second",
    group: "rates",
  }),
  // accelerometer
  ...axis3(
    "accel_",
    "_ms2",
    { unit: "m/s^2", min: -500, max: 500, group: "accelerometer" },
    (a) => [`accel_${a}`, `acc_${a}`, `a${a}`],
    (a) => `Acceleration along the body ${a} axis in m/s^2`,
  ),
  // gps
  smallint("gps_fix_type", {
    unit: null,
    min: 0,
    max: 8,
    aliases: ["fix_type", "fixtype", "gps_fix", "fix"],
    description: "GPS fix type (MAVLink GPS_FIX_TYPE: 0 none, 2 2D, 3 3D, 4 DGPS, 5-6 RTK)",
    group: "gps",
  }),
  smallint("gps_satellites", {
    unit: null,
    min: 0,
    max: 255,
    aliases: [
      "sats",
      "satellites",
      "satellites_visible",
      "gps_sats",
      "numsat",
      "num_sats",
      "nsats",
    ],
    description: "Number of satellites used or visible",
    group: "gps",
  }),
  double("gps_latitude", {
    unit: "deg",
    min: -90,
    max: 90,
    aliases: ["gps_lat", "lat", "latitude"],
    description: "Latitude in decimal degrees (WGS84)",
    group: "gps",
  }),
  double("gps_longitude", {
    unit: "deg",
    min: -180,
    max: 180,
    aliases: ["gps_lon", "gps_lng", "lon", "lng", "long", "longitude"],
    description: "Longitude in decimal degrees (WGS84)",
    group: "gps",
  }),
  real("gps_altitude_m", {
    unit: "m",
    min: -1000,
    max: 50_000,
    aliases: ["gps_alt", "gps_altitude", "alt_gps"],
    description: "GPS altitude above mean sea level in metres",
    group: "gps",
  }),
  real("gps_speed_ms", {
    unit: "m/s",
    min: 0,
    max: 500,
    aliases: ["gps_speed", "gps_spd", "speed"],
    description: "GPS ground speed in m/s",
    group: "gps",
  }),
  real("gps_course_degrees", {
    unit: "deg",
    min: 0,
    max: 360,
    aliases: ["gps_course", "course", "cog", "track"],
    description: "GPS course over ground in degrees from north",
    group: "gps",
  }),
  real("gps_hdop", {
    unit: null,
    min: 0,
    max: 100,
    aliases: ["hdop"],
    description: "GPS horizontal dilution of precision",
    group: "gps",
  }),
  real("gps_vdop", {
    unit: null,
    min: 0,
    max: 100,
    aliases: ["vdop"],
    description: "GPS vertical dilution of precision",
    group: "gps",
  }),
  // barometer
  real("baro_altitude_m", {
    unit: "m",
    min: -1000,
    max: 50_000,
    aliases: ["baro_alt", "baro_altitude", "alt_baro"],
    description: "Barometric altitude in metres",
    group: "barometer",
  }),
  real("baro_pressure_pa", {
    unit: "Pa",
    min: 0,
    max: 120_000,
    aliases: ["pressure", "baro_pressure", "baro_press", "pressure_pa"],
    description: "Static air pressure in pascals",
    group: "barometer",
  }),
  real("baro_temperature_c", {
    unit: "degC",
    min: -80,
    max: 150,
    aliases: ["baro_temp", "baro_temperature"],
    description: "Barometer temperature in degrees Celsius",
    group: "barometer",
  }),
  real("altitude_m", {
    unit: "m",
    min: -1000,
    max: 50_000,
    aliases: ["alt", "altitude", "alt_m", "height"],
    description: "Altitude in metres as reported by the flight controller",
    group: "altitude",
  }),
  // battery
  real("battery_voltage_v", {
    unit: "V",
    min: 0,
    max: 200,
    aliases: ["bat_v", "batt_v", "battery_v", "battery_voltage", "voltage", "vbat", "volts"],
    description: "Battery voltage in volts",
    group: "battery",
  }),
  real("battery_current_a", {
    unit: "A",
    min: -1000,
    max: 1000,
    aliases: ["bat_a", "batt_a", "battery_a", "battery_current", "current", "curr", "amps"],
    description: "Battery current in amperes (negative while charging)",
    group: "battery",
  }),
  real("battery_consumed_mah", {
    unit: "mAh",
    min: 0,
    max: 1_000_000,
    aliases: ["mah", "consumed", "battery_consumed", "current_consumed", "mah_drawn", "used_mah"],
    description: "Charge drawn from the battery in mAh",
    group: "battery",
  }),
  real("battery_remaining_percent", {
    unit: "%",
    min: 0,
    max: 100,
    aliases: [
      "batt_remaining",
      "battery_remaining",
      "bat_remaining",
      "bat_pct",
      "batt_pct",
      "battery_percent",
      "fuel",
    ],
    description: "Remaining battery capacity in percent",
    group: "battery",
  }),
  // motors
  motor(1),
  motor(2),
  motor(3),
  motor(4),
  motor(5),
  motor(6),
  motor(7),
  motor(8),
  // pid
  pid("roll", "p"),
  pid("roll", "i"),
  pid("roll", "d"),
  pid("pitch", "p"),
  pid("pitch", "i"),
  pid("pitch", "d"),
  pid("yaw", "p"),
  pid("yaw", "i"),
  pid("yaw", "d"),
  // rc (channel order as ArduPilot's default RCMAP: roll, pitch, throttle, yaw, then aux)
  rc("rc_roll", 1, ["rc_aileron", "aileron"], "RC roll input"),
  rc("rc_pitch", 2, ["rc_elevator", "elevator"], "RC pitch input"),
  rc("rc_throttle", 3, ["rc_thr"], "RC throttle input"),
  rc("rc_yaw", 4, ["rc_rudder", "rudder"], "RC yaw input"),
  rc("rc_aux1", 5, ["aux1"], "RC auxiliary input 1"),
  rc("rc_aux2", 6, ["aux2"], "RC auxiliary input 2"),
  rc("rc_aux3", 7, ["aux3"], "RC auxiliary input 3"),
  rc("rc_aux4", 8, ["aux4"], "RC auxiliary input 4"),
  // velocity and position (local frame)
  ...axis3(
    "velocity_",
    "_ms",
    { unit: "m/s", min: -500, max: 500, group: "velocity" },
    (a) => [`v${a}`, `vel_${a}`, `velocity_${a}`],
    (a) => `Velocity along the local ${a} axis in m/s`,
  ),
  ...axis3(
    "position_",
    "_m",
    { unit: "m", min: -1e7, max: 1e7, group: "position" },
    (a) => [`pos_${a}`, `position_${a}`, `local_${a}`],
    (a) => `Position along the local ${a} axis in metres from home`,
  ),
  // magnetometer
  ...axis3(
    "magnetometer_",
    "",
    { unit: "G", min: -100, max: 100, group: "magnetometer" },
    (a) => [`mag_${a}`, `mag${a}`, `m${a}`, `compass_${a}`],
    (a) => `Magnetic field along the body ${a} axis in gauss`,
  ),
  // environment
  real("temperature_c", {
    unit: "degC",
    min: -80,
    max: 150,
    aliases: ["temp", "temperature", "temp_c"],
    description: "Temperature in degrees Celsius",
    group: "environment",
  }),
  real("humidity_percent", {
    unit: "%",
    min: 0,
    max: 100,
    aliases: ["humidity", "hum", "rh"],
    description: "Relative humidity in percent",
    group: "environment",
  }),
  boolean("failsafe_active", {
    aliases: ["failsafe", "fs", "failsafe_state", "in_failsafe"],
    description: "Whether a failsafe is currently active",
    group: "failsafe",
  }),
  // vibration
  ...axis3(
    "vibration_",
    "",
    { unit: "m/s^2", min: 0, max: 1000, group: "vibration" },
    (a) => [`vibe_${a}`, `vib_${a}`, `vibe${a}`],
    (a) => `Vibration level on the ${a} axis in m/s^2`,
  ),
  // MAVLink extras (VFR_HUD, RADIO_STATUS)
  real("airspeed_ms", {
    unit: "m/s",
    min: 0,
    max: 500,
    aliases: ["airspeed", "air_speed", "aspd", "ias"],
    description: "Indicated airspeed in m/s",
    group: "mavlink",
  }),
  real("groundspeed_ms", {
    unit: "m/s",
    min: 0,
    max: 500,
    aliases: ["groundspeed", "ground_speed", "gspd", "gs"],
    description: "Ground speed in m/s",
    group: "mavlink",
  }),
  real("climb_rate_ms", {
    unit: "m/s",
    min: -500,
    max: 500,
    aliases: ["climb", "climb_rate", "vspeed", "vertical_speed", "vario"],
    description: "Climb rate in m/s, positive up",
    group: "mavlink",
  }),
  real("throttle_percent", {
    unit: "%",
    min: 0,
    max: 100,
    aliases: ["throttle", "thr", "throttle_pct"],
    description: "Throttle setting in percent",
    group: "mavlink",
  }),
  real("rssi_percent", {
    unit: "%",
    min: 0,
    max: 100,
    aliases: ["rssi", "rssi_pct"],
    description: "Received signal strength in percent",
    group: "mavlink",
  }),
] as const;

/** A field of the catalogue with its literal name and kind. */
export type CatalogueField = (typeof FIELDS)[number];

/** Name of a catalogue field (a telemetry column). */
export type FieldName = CatalogueField["name"];

/** Names of all catalogue fields in column order (for the DB column comparison test). */
export const FIELD_NAMES: readonly FieldName[] = FIELDS.map((f) => f.name);

/**
 * Metadata keys a frame may carry besides catalogue fields, with their accepted names.
 * `device_id` is not one: it comes from the device key, never from the body.
 */
export const METADATA_KEYS = {
  recorded_at: ["recorded_at", "ts", "time", "timestamp"],
  flight_id: ["flight_id"],
} as const;

/** Name of a metadata column a frame key can set. */
export type MetadataKey = keyof typeof METADATA_KEYS;

/** What a frame key resolves to. */
export type ResolvedKey =
  | { readonly type: "field"; readonly name: FieldName; readonly spec: CatalogueField }
  | { readonly type: "metadata"; readonly name: MetadataKey };

function buildLookup(): ReadonlyMap<string, ResolvedKey> {
  const lookup = new Map<string, ResolvedKey>();
  const add = (key: string, target: ResolvedKey): void => {
    const lower = key.toLowerCase();
    const existing = lookup.get(lower);
    if (existing !== undefined) {
      throw new TypeError(
        `Cannot build the catalogue: "${key}" names both "${existing.name}" and "${target.name}"`,
      );
    }
    lookup.set(lower, target);
  };
  for (const spec of FIELDS) add(spec.name, { type: "field", name: spec.name, spec });
  for (const key of METADATA_KEYS.recorded_at) add(key, { type: "metadata", name: "recorded_at" });
  for (const key of METADATA_KEYS.flight_id) add(key, { type: "metadata", name: "flight_id" });
  for (const spec of FIELDS) {
    for (const alias of spec.aliases) add(alias, { type: "field", name: spec.name, spec });
  }
  return lookup;
}

/**
 * Every accepted key (canonical names, aliases and metadata keys), lower-cased, to its target.
 * Building it throws a TypeError at module load if two fields share a name or alias.
 */
export const KEY_LOOKUP: ReadonlyMap<string, ResolvedKey> = buildLookup();

/**
 * Resolves a frame key (canonical name, alias or metadata key) case-insensitively.
 *
 * @param key Key as sent by the device.
 * @returns The field or metadata column, or undefined for an unknown key.
 */
export function resolveKey(key: string): ResolvedKey | undefined {
  return KEY_LOOKUP.get(key.toLowerCase());
}

/**
 * Finds a catalogue field by its canonical name or any alias, case-insensitively.
 *
 * @param nameOrAlias A column name or alias.
 * @returns The field, or undefined if the name is unknown or a metadata key.
 */
export function findField(nameOrAlias: string): CatalogueField | undefined {
  const resolved = resolveKey(nameOrAlias);
  return resolved?.type === "field" ? resolved.spec : undefined;
}

/** Catalogue fields by exact canonical name. */
export const FIELD_BY_NAME: ReadonlyMap<string, CatalogueField> = new Map(
  FIELDS.map((f) => [f.name, f]),
);

/** Whether `name` is exactly a catalogue column name (case-sensitive, no aliases). */
export function isFieldName(name: string): name is FieldName {
  return FIELD_BY_NAME.has(name);
}

/**
 * The reference API's `telemetry_fields`: every column name to its one-line description.
 *
 * @returns A fresh object, safe to serialise or modify.
 */
export function telemetryFieldDescriptions(): Record<string, string> {
  return Object.fromEntries(FIELDS.map((f) => [f.name, f.description]));
}
