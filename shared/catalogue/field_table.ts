/**
 * The field table: every typed telemetry field as data, one entry per column of the telemetry
 * table, in column order. The lookups derived from it live in `catalogue.ts`.
 *
 * @module
 */

import { axis3, boolean, double, motor, pid, rc, real, smallint, text } from "./field_spec.ts";

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
