/**
 * MAVLink common messages onto catalogue fields, each unit converted as the message definitions
 * (common.xml, minimal.xml) state it. A field whose value is the message's "unknown" sentinel
 * (UINT16_MAX, -1, 255 ...) is left out, so the latest known value stands.
 *
 * | message | fields (unit in the message → catalogue) |
 * |---|---|
 * | HEARTBEAT | armed (base_mode bit 128), flight_mode (custom_mode, PX4/ArduPilot names) |
 * | ATTITUDE | roll/pitch/yaw rad → deg; roll/pitch/yaw speed rad/s → deg/s |
 * | GLOBAL_POSITION_INT | lat/lon degE7 → deg; alt mm (MSL) → altitude_m m; vx/vy/vz cm/s → m/s (NED); hdg cdeg → deg |
 * | GPS_RAW_INT | fix_type; satellites_visible; eph/epv (HDOP/VDOP ×100) → hdop/vdop; vel cm/s → m/s; cog cdeg → deg; alt mm → gps_altitude_m m |
 * | SYS_STATUS | voltage_battery mV → V; current_battery cA → A; battery_remaining %; load d% → % |
 * | BATTERY_STATUS (id 0) | current_consumed mAh; current_battery cA → A; battery_remaining % |
 * | VFR_HUD | airspeed, groundspeed m/s; climb m/s; throttle % |
 * | SCALED_PRESSURE | press_abs hPa → Pa; temperature cdegC → °C |
 * | RC_CHANNELS | chan1..8_raw µs → rc_roll, rc_pitch, rc_throttle, rc_yaw, rc_aux1..4 |
 * | SERVO_OUTPUT_RAW (port 0) | servo1..8_raw µs → motor1..8_pwm |
 * | VIBRATION | vibration_x/y/z m/s² |
 * | HIGHRES_IMU (id 0) | xacc.. m/s² → accel_*_ms2; xmag.. gauss → magnetometer_* G |
 * | SCALED_IMU | xacc.. mG → m/s²; xmag.. mgauss → G |
 * | RADIO_STATUS | rssi 0–254 → rssi_percent % |
 *
 * @module
 */
import { flightModeName } from "./modes.ts";
import type { MavlinkMessage } from "./decoder.ts";

/** Catalogue field values a message sets. */
export type FieldValues = Record<string, number | string | boolean>;

const DEG = 180 / Math.PI;
const G0 = 9.80665;
const UINT16_MAX = 65535;
const UINT8_MAX = 255;
const ARMED_FLAG = 128;
const RC_FIELDS = [
  "rc_roll",
  "rc_pitch",
  "rc_throttle",
  "rc_yaw",
  "rc_aux1",
  "rc_aux2",
  "rc_aux3",
  "rc_aux4",
];

const num = (fields: Readonly<Record<string, unknown>>, name: string): number =>
  Number(fields[name]);

/** Sets `field` to `value` unless the raw value is the sentinel for "unknown". */
function put(out: FieldValues, field: string, raw: number, unknown: number | null, scale = 1) {
  if (Number.isFinite(raw) && raw !== unknown) out[field] = raw * scale;
}

/**
 * The catalogue fields a message sets; empty for messages the bridge does not map.
 *
 * @param message a decoded message
 */
export function fieldsOf(message: MavlinkMessage): FieldValues {
  const f = message.fields;
  const out: FieldValues = {};
  switch (message.name) {
    case "HEARTBEAT":
      out.armed = (num(f, "baseMode") & ARMED_FLAG) !== 0;
      out.flight_mode = flightModeName(num(f, "autopilot"), num(f, "type"), num(f, "customMode"));
      break;
    case "ATTITUDE":
      put(out, "roll_degrees", num(f, "roll"), null, DEG);
      put(out, "pitch_degrees", num(f, "pitch"), null, DEG);
      put(out, "yaw_degrees", num(f, "yaw"), null, DEG);
      put(out, "roll_rate_dps", num(f, "rollspeed"), null, DEG);
      put(out, "pitch_rate_dps", num(f, "pitchspeed"), null, DEG);
      put(out, "yaw_rate_dps", num(f, "yawspeed"), null, DEG);
      break;
    case "GLOBAL_POSITION_INT":
      put(out, "gps_latitude", num(f, "lat"), null, 1e-7);
      put(out, "gps_longitude", num(f, "lon"), null, 1e-7);
      put(out, "altitude_m", num(f, "alt"), null, 1e-3);
      put(out, "velocity_x_ms", num(f, "vx"), null, 0.01);
      put(out, "velocity_y_ms", num(f, "vy"), null, 0.01);
      put(out, "velocity_z_ms", num(f, "vz"), null, 0.01);
      put(out, "heading_degrees", num(f, "hdg"), UINT16_MAX, 0.01);
      break;
    case "GPS_RAW_INT":
      out.gps_fix_type = num(f, "fixType");
      put(out, "gps_satellites", num(f, "satellitesVisible"), UINT8_MAX);
      put(out, "gps_hdop", num(f, "eph"), UINT16_MAX, 0.01);
      put(out, "gps_vdop", num(f, "epv"), UINT16_MAX, 0.01);
      put(out, "gps_speed_ms", num(f, "vel"), UINT16_MAX, 0.01);
      put(out, "gps_course_degrees", num(f, "cog"), UINT16_MAX, 0.01);
      put(out, "gps_altitude_m", num(f, "alt"), null, 1e-3);
      break;
    case "SYS_STATUS":
      put(out, "battery_voltage_v", num(f, "voltageBattery"), UINT16_MAX, 1e-3);
      put(out, "battery_current_a", num(f, "currentBattery"), -1, 0.01);
      put(out, "battery_remaining_percent", num(f, "batteryRemaining"), -1);
      put(out, "cpu_load_percent", num(f, "load"), null, 0.1);
      break;
    case "BATTERY_STATUS":
      if (num(f, "id") !== 0) break;
      put(out, "battery_consumed_mah", num(f, "currentConsumed"), -1);
      put(out, "battery_current_a", num(f, "currentBattery"), -1, 0.01);
      put(out, "battery_remaining_percent", num(f, "batteryRemaining"), -1);
      break;
    case "VFR_HUD":
      put(out, "airspeed_ms", num(f, "airspeed"), null);
      put(out, "groundspeed_ms", num(f, "groundspeed"), null);
      put(out, "climb_rate_ms", num(f, "climb"), null);
      put(out, "throttle_percent", num(f, "throttle"), null);
      break;
    case "SCALED_PRESSURE":
      put(out, "baro_pressure_pa", num(f, "pressAbs"), null, 100);
      put(out, "baro_temperature_c", num(f, "temperature"), null, 0.01);
      break;
    case "RC_CHANNELS":
      RC_FIELDS.forEach((field, i) => put(out, field, num(f, `chan${i + 1}Raw`), UINT16_MAX));
      break;
    case "SERVO_OUTPUT_RAW":
      if (num(f, "port") !== 0) break;
      for (let i = 1; i <= 8; i++) put(out, `motor${i}_pwm`, num(f, `servo${i}Raw`), null);
      break;
    case "VIBRATION":
      put(out, "vibration_x", num(f, "vibrationX"), null);
      put(out, "vibration_y", num(f, "vibrationY"), null);
      put(out, "vibration_z", num(f, "vibrationZ"), null);
      break;
    case "HIGHRES_IMU": {
      if (num(f, "id") !== 0) break;
      // fields_updated: bits 0-2 the accelerations, bits 6-8 the magnetometer.
      const updated = num(f, "fieldsUpdated");
      ["x", "y", "z"].forEach((axis, i) => {
        if (updated & (1 << i)) put(out, `accel_${axis}_ms2`, num(f, `${axis}acc`), null);
        if (updated & (1 << (i + 6))) put(out, `magnetometer_${axis}`, num(f, `${axis}mag`), null);
      });
      break;
    }
    case "SCALED_IMU":
      for (const axis of ["x", "y", "z"]) {
        put(out, `accel_${axis}_ms2`, num(f, `${axis}acc`), null, G0 / 1000);
        put(out, `magnetometer_${axis}`, num(f, `${axis}mag`), null, 1e-3);
      }
      break;
    case "RADIO_STATUS":
      put(out, "rssi_percent", num(f, "rssi"), UINT8_MAX, 100 / 254);
      break;
  }
  return out;
}

/** The vehicle's boot clock in a message, in milliseconds, if it carries one. */
export function bootMillis(message: MavlinkMessage): number | null {
  const value = message.fields.timeBootMs;
  return typeof value === "number" ? value : null;
}
