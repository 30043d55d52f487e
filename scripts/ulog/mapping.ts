/**
 * How PX4 ULog topics become catalogue fields. Each catalogue field comes from exactly one topic
 * (instance 0 of it), so frames merged from several topics never overwrite each other's values;
 * `altitude_m` comes from one of {@link ALTITUDE_SOURCES}, chosen per log.
 * Values are converted to the catalogue's units; NaN (PX4's "unknown") and values outside the
 * catalogue's range are left out and counted, never sent (the API would reject the whole frame).
 *
 * @module
 */
import { FIELD_BY_NAME, type FieldName } from "../../shared/catalogue/catalogue.ts";

/** A decoded ULog message: field names to values, as `@foxglove/ulog` parses them. */
export type UlogMessage = Readonly<Record<string, unknown>>;

/** Catalogue field values taken from one message. */
export type Mapped = Partial<Record<FieldName, number | boolean | string>>;

/** What a topic's mapping yields: undefined where the message has no usable value. */
type Raw = { [name in FieldName]?: number | boolean | string | undefined };

const DEG = 180 / Math.PI;

/** PX4 vehicle_status.nav_state names (msg/vehicle_status.msg). */
export const NAV_STATES: Readonly<Record<number, string>> = {
  0: "MANUAL",
  1: "ALTCTL",
  2: "POSCTL",
  3: "AUTO_MISSION",
  4: "AUTO_LOITER",
  5: "AUTO_RTL",
  8: "AUTO_LANDENGFAIL",
  9: "AUTO_LANDGPSFAIL",
  10: "ACRO",
  12: "DESCEND",
  13: "TERMINATION",
  14: "OFFBOARD",
  15: "STAB",
  16: "RATTITUDE",
  17: "AUTO_TAKEOFF",
  18: "AUTO_LAND",
  19: "AUTO_FOLLOW_TARGET",
  20: "AUTO_PRECLAND",
  21: "ORBIT",
  22: "AUTO_VTOL_TAKEOFF",
};
/** vehicle_status.arming_state value meaning armed. */
const ARMING_STATE_ARMED = 2;

/** A finite number from a numeric or bigint value, else undefined (NaN is PX4's "unknown"). */
export function num(value: unknown): number | undefined {
  const n = typeof value === "bigint" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

function at(message: UlogMessage, key: string, index: number): number | undefined {
  const list = message[key];
  return Array.isArray(list) ? num(list[index]) : undefined;
}

const scaled = (value: number | undefined, factor: number) =>
  value === undefined ? undefined : value * factor;

// Division, not multiplication by 1e-7: it gives the decimal value exactly (63.4170622, not
// 63.417062200000004).
const divided = (value: number | undefined, divisor: number) =>
  value === undefined ? undefined : value / divisor;

/** Degrees in [0, 360) from radians (headings and courses). */
export function compassDegrees(radians: number | undefined): number | undefined {
  if (radians === undefined) return undefined;
  return ((radians * DEG) % 360 + 360) % 360;
}

/**
 * Roll, pitch and yaw in degrees from a unit quaternion [w, x, y, z] (PX4's Hamilton convention,
 * body to NED, ZYX Euler angles as PX4's matrix::Eulerf computes them).
 */
export function quaternionToEuler(
  q: readonly number[],
): { roll: number; pitch: number; yaw: number } {
  const [w = 1, x = 0, y = 0, z = 0] = q;
  const roll = Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  const pitch = Math.asin(Math.max(-1, Math.min(1, 2 * (w * y - z * x))));
  const yaw = Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
  return { roll: roll * DEG, pitch: pitch * DEG, yaw: yaw * DEG };
}

function channels(
  message: UlogMessage,
  key: string,
  count: number,
  names: readonly FieldName[],
): Raw {
  const out: Raw = {};
  names.slice(0, count).forEach((name, i) => (out[name] = at(message, key, i)));
  return out;
}

const MOTORS = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `motor${n}_pwm` as FieldName);
const RC: readonly FieldName[] = [
  "rc_roll",
  "rc_pitch",
  "rc_throttle",
  "rc_yaw",
  "rc_aux1",
  "rc_aux2",
  "rc_aux3",
  "rc_aux4",
];

/** One mapped topic: its name(s) in the log and how a message becomes fields. */
export interface TopicMapping {
  /** Topic names, newest first where PX4 renamed the topic. */
  readonly topics: readonly string[];
  readonly map: (message: UlogMessage) => Raw;
}

export const TOPIC_MAPPINGS: readonly TopicMapping[] = [
  {
    topics: ["vehicle_attitude"],
    map: (m) => {
      const q = [0, 1, 2, 3].map((i) => at(m, "q", i));
      if (q.some((v) => v === undefined)) return {};
      const { roll, pitch, yaw } = quaternionToEuler(q as number[]);
      return { roll_degrees: roll, pitch_degrees: pitch, yaw_degrees: yaw };
    },
  },
  {
    topics: ["vehicle_angular_velocity"],
    map: (m) => ({
      roll_rate_dps: scaled(at(m, "xyz", 0), DEG),
      pitch_rate_dps: scaled(at(m, "xyz", 1), DEG),
      yaw_rate_dps: scaled(at(m, "xyz", 2), DEG),
    }),
  },
  {
    topics: ["sensor_combined"],
    map: (m) => ({
      accel_x_ms2: at(m, "accelerometer_m_s2", 0),
      accel_y_ms2: at(m, "accelerometer_m_s2", 1),
      accel_z_ms2: at(m, "accelerometer_m_s2", 2),
    }),
  },
  {
    topics: ["sensor_gps", "vehicle_gps_position"],
    map: (m) => ({
      gps_latitude: num(m.latitude_deg) ?? divided(num(m.lat), 1e7),
      gps_longitude: num(m.longitude_deg) ?? divided(num(m.lon), 1e7),
      gps_altitude_m: num(m.altitude_msl_m) ?? divided(num(m.alt), 1000),
      gps_speed_ms: num(m.vel_m_s),
      gps_course_degrees: compassDegrees(num(m.cog_rad)),
      gps_hdop: num(m.hdop),
      gps_vdop: num(m.vdop),
      gps_fix_type: num(m.fix_type),
      gps_satellites: num(m.satellites_used),
    }),
  },
  {
    topics: ["vehicle_local_position"],
    map: (m) => ({
      position_x_m: num(m.x),
      position_y_m: num(m.y),
      position_z_m: num(m.z),
      velocity_x_ms: num(m.vx),
      velocity_y_ms: num(m.vy),
      velocity_z_ms: num(m.vz),
      climb_rate_ms: scaled(num(m.vz), -1),
      heading_degrees: compassDegrees(num(m.heading)),
    }),
  },
  {
    topics: ["battery_status"],
    map: (m) => ({
      battery_voltage_v: num(m.voltage_v),
      battery_current_a: num(m.current_a),
      battery_consumed_mah: num(m.discharged_mah),
      battery_remaining_percent: scaled(num(m.remaining), 100),
    }),
  },
  {
    topics: ["actuator_outputs"],
    map: (m) => channels(m, "output", num(m.noutputs) ?? 8, MOTORS),
  },
  {
    topics: ["input_rc"],
    map: (m) => ({
      ...channels(m, "values", num(m.channel_count) ?? 8, RC),
      rssi_percent: num(m.rssi),
    }),
  },
  {
    topics: ["vehicle_status"],
    map: (m) => {
      const nav = num(m.nav_state);
      const arming = num(m.arming_state);
      const out: Raw = {};
      if (nav !== undefined) out.flight_mode = NAV_STATES[nav] ?? `NAV_STATE_${nav}`;
      if (arming !== undefined) out.armed = arming === ARMING_STATE_ARMED;
      if (typeof m.failsafe === "boolean") out.failsafe_active = m.failsafe;
      return out;
    },
  },
  {
    topics: ["vehicle_air_data"],
    map: (m) => ({
      baro_altitude_m: num(m.baro_alt_meter),
      baro_pressure_pa: num(m.baro_pressure_pa),
      baro_temperature_c: num(m.baro_temp_celcius),
    }),
  },
  {
    topics: ["vehicle_magnetometer"],
    map: (m) => ({
      magnetometer_x: at(m, "magnetometer_ga", 0),
      magnetometer_y: at(m, "magnetometer_ga", 1),
      magnetometer_z: at(m, "magnetometer_ga", 2),
    }),
  },
  {
    topics: ["airspeed_validated"],
    map: (m) => ({ airspeed_ms: num(m.indicated_airspeed_m_s) }),
  },
  {
    topics: ["cpuload"],
    map: (m) => ({ cpu_load_percent: scaled(num(m.load), 100) }),
  },
  {
    // Multicopter throttle: actuator_controls_0 index 3 (INDEX_THROTTLE), 0..1.
    topics: ["actuator_controls_0"],
    map: (m) => ({ throttle_percent: scaled(at(m, "control", 3), 100) }),
  },
];

/** A topic that can give `altitude_m`, and how. */
export interface AltitudeSource {
  readonly topic: string;
  /** What the README and the import summary call it. */
  readonly label: string;
  readonly altitude: (message: UlogMessage) => number | undefined;
}

/**
 * Where `altitude_m` (metres above mean sea level) comes from, best first: the estimator's global
 * position, else its local position plus the local frame's reference altitude (only while that
 * reference is valid: z_global), else the barometer. One source per log, the first the log has a
 * value from, so the altitude never jumps between sources whose offsets differ.
 */
export const ALTITUDE_SOURCES: readonly AltitudeSource[] = [
  {
    topic: "vehicle_global_position",
    label: "vehicle_global_position.alt",
    altitude: (m) => num(m.alt),
  },
  {
    topic: "vehicle_local_position",
    label: "vehicle_local_position.ref_alt − z",
    altitude: (m) => {
      const ref = num(m.ref_alt);
      const z = num(m.z);
      return m.z_global === true && ref !== undefined && z !== undefined ? ref - z : undefined;
    },
  },
  {
    topic: "vehicle_air_data",
    label: "vehicle_air_data.baro_alt_meter",
    altitude: (m) => num(m.baro_alt_meter),
  },
];

/** `altitude_m` from a message of the source, when it has a value the catalogue can hold. */
export function altitudeFrom(source: AltitudeSource, message: UlogMessage): number | undefined {
  const value = source.altitude(message);
  const spec = FIELD_BY_NAME.get("altitude_m");
  if (value === undefined || spec === undefined || spec.min === null || spec.max === null) {
    return undefined;
  }
  return value >= spec.min && value <= spec.max ? value : undefined;
}

/** Mappings by topic name. */
export const MAPPING_BY_TOPIC: ReadonlyMap<string, TopicMapping> = new Map(
  TOPIC_MAPPINGS.flatMap((mapping) => mapping.topics.map((topic) => [topic, mapping] as const)),
);

/**
 * The values of a message that the catalogue can hold: defined, within the field's range,
 * integers rounded.
 *
 * @returns The kept fields and how many values were left out for being outside the range.
 */
export function mapMessage(
  topic: string,
  message: UlogMessage,
): { fields: Mapped; outOfRange: number } {
  const mapping = MAPPING_BY_TOPIC.get(topic);
  const fields: Mapped = {};
  let outOfRange = 0;
  if (mapping === undefined) return { fields, outOfRange };
  for (const [name, value] of Object.entries(mapping.map(message)) as [FieldName, unknown][]) {
    if (value === undefined) continue;
    const spec = FIELD_BY_NAME.get(name);
    if (typeof value !== "number" || spec === undefined || spec.min === null || spec.max === null) {
      if (typeof value === "boolean" || typeof value === "string") fields[name] = value;
      continue;
    }
    const kept = spec.kind === "integer" ? Math.round(value) : value;
    if (kept < spec.min || kept > spec.max) outOfRange++;
    else fields[name] = kept;
  }
  return { fields, outOfRange };
}
