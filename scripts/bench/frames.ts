/**
 * The frames the benchmark sends, the same for the naive path and for telemetry-parse: a
 * realistic 25-field frame (attitude, rates, GPS, battery, motors, mode) or a full frame with a
 * value in every catalogue column. Values follow the frame's index, so every run is the same.
 */
import { FIELDS } from "../../shared/catalogue/catalogue.ts";

export type Frame = Record<string, string | number | boolean>;

/** 24 catalogue fields plus recorded_at. */
export function realisticFrame(index: number, recordedAt: string): Frame {
  const t = index / 10;
  return {
    recorded_at: recordedAt,
    flight_mode: index % 600 < 300 ? "AUTO" : "LOITER",
    armed: true,
    roll_degrees: round(Math.sin(t) * 12),
    pitch_degrees: round(Math.cos(t) * 8),
    yaw_degrees: round((index * 0.7) % 360),
    heading_degrees: round((index * 0.7) % 360),
    roll_rate_dps: round(Math.cos(t) * 3),
    pitch_rate_dps: round(-Math.sin(t) * 2),
    yaw_rate_dps: 0.7,
    gps_fix_type: 3,
    gps_satellites: 9 + (index % 5),
    gps_latitude: 47.3977 + Math.sin(t / 50) * 0.001,
    gps_longitude: 8.5456 + Math.cos(t / 50) * 0.001,
    gps_altitude_m: round(480 + Math.sin(t / 20) * 5),
    gps_speed_ms: round(6 + Math.sin(t) * 0.5),
    altitude_m: round(60 + Math.sin(t / 20) * 5),
    battery_voltage_v: round(16.4 - (index % 10000) * 0.0002),
    battery_current_a: round(18 + Math.sin(t) * 2),
    battery_remaining_percent: round(100 - (index % 10000) * 0.008),
    motor1_pwm: 1500 + (index % 50),
    motor2_pwm: 1510 + (index % 40),
    motor3_pwm: 1490 + (index % 30),
    motor4_pwm: 1505 + (index % 20),
  };
}

/** A value in every catalogue column, inside each field's bounds. */
export function fullFrame(index: number, recordedAt: string): Frame {
  const frame: Frame = { "recorded_at": recordedAt };
  FIELDS.forEach((field, position) => {
    if (field.kind === "boolean") frame[field.name] = (index + position) % 7 === 0;
    else if (field.kind === "text") frame[field.name] = "AUTO";
    else {
      const min = field.min ?? 0;
      const max = field.max ?? min + 1000;
      const value = min + ((index * 31 + position * 17) % 1000) / 1000 * (max - min);
      frame[field.name] = field.kind === "integer" ? Math.round(value) : round(value);
    }
  });
  return frame;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
