/**
 * A simulated flight's values as the MAVLink a PX4 flight controller sends: HEARTBEAT (armed,
 * PX4 custom mode), SYSTEM_TIME, ATTITUDE, GLOBAL_POSITION_INT, GPS_RAW_INT, SYS_STATUS, VFR_HUD,
 * SERVO_OUTPUT_RAW and RADIO_STATUS, each field in the unit its message definition states (the
 * inverse of scripts/mavlink/fields.ts). Used by `deno task simulate --mavlink` and by the
 * bridge's tests.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { common, MavLinkProtocolV2, minimal } from "node-mavlink";

type Values = Readonly<Record<string, number | string | boolean>>;

const RAD = Math.PI / 180;
/** PX4 custom modes (main mode << 16 | sub mode << 24) for the simulator's mode names. */
const PX4_MODES: Readonly<Record<string, number>> = {
  MANUAL: 1 << 16,
  TAKEOFF: (4 << 16) | (2 << 24),
  MISSION: (4 << 16) | (4 << 24),
  RTL: (4 << 16) | (5 << 24),
  LAND: (4 << 16) | (6 << 24),
};

const n = (values: Values, name: string): number => Number(values[name] ?? 0);

/** Encodes MAVLink v2 packets of one system, numbering them as a flight controller does. */
export class MavlinkEncoder {
  readonly #protocol: MavLinkProtocolV2;
  #seq = 0;

  constructor(systemId = 1, componentId = 1) {
    this.#protocol = new MavLinkProtocolV2(systemId, componentId);
  }

  /** One packet of any node-mavlink message. */
  // deno-lint-ignore no-explicit-any -- node-mavlink's serialize takes any message class
  packet(message: any): Buffer {
    const packet = this.#protocol.serialize(message, this.#seq);
    this.#seq = (this.#seq + 1) & 0xff;
    return packet;
  }

  /**
   * The packets a flight controller would send for one step of values.
   *
   * @param values catalogue fields, as SimulatedFlight.step() gives them
   * @param bootMs the vehicle's time since boot
   * @param unixMs the vehicle's Unix time (SYSTEM_TIME)
   */
  vehicle(values: Values, bootMs: number, unixMs: number): Buffer[] {
    const heartbeat = new minimal.Heartbeat();
    heartbeat.type = minimal.MavType.QUADROTOR;
    heartbeat.autopilot = minimal.MavAutopilot.PX4;
    heartbeat.baseMode = minimal.MavModeFlag.CUSTOM_MODE_ENABLED |
      (values.armed === true ? minimal.MavModeFlag.SAFETY_ARMED : 0);
    heartbeat.customMode = PX4_MODES[String(values.flight_mode)] ?? PX4_MODES.MANUAL!;
    heartbeat.systemStatus = minimal.MavState.ACTIVE;

    const time = new common.SystemTime();
    time.timeUnixUsec = BigInt(Math.round(unixMs)) * 1000n;
    time.timeBootMs = bootMs;

    const attitude = new common.Attitude();
    attitude.timeBootMs = bootMs;
    attitude.roll = n(values, "roll_degrees") * RAD;
    attitude.pitch = n(values, "pitch_degrees") * RAD;
    attitude.yaw = n(values, "yaw_degrees") * RAD;
    attitude.rollspeed = n(values, "roll_rate_dps") * RAD;
    attitude.pitchspeed = n(values, "pitch_rate_dps") * RAD;
    attitude.yawspeed = n(values, "yaw_rate_dps") * RAD;

    const position = new common.GlobalPositionInt();
    position.timeBootMs = bootMs;
    position.lat = Math.round(n(values, "gps_latitude") * 1e7);
    position.lon = Math.round(n(values, "gps_longitude") * 1e7);
    position.alt = Math.round(n(values, "baro_altitude_m") * 1000);
    position.relativeAlt = Math.round(n(values, "altitude_m") * 1000);
    position.vx = Math.round(n(values, "velocity_x_ms") * 100);
    position.vy = Math.round(n(values, "velocity_y_ms") * 100);
    position.vz = Math.round(n(values, "velocity_z_ms") * 100);
    position.hdg = Math.round(n(values, "heading_degrees") * 100) % 36000;

    const gps = new common.GpsRawInt();
    gps.timeUsec = BigInt(bootMs) * 1000n;
    gps.fixType = n(values, "gps_fix_type");
    gps.lat = position.lat;
    gps.lon = position.lon;
    gps.alt = Math.round(n(values, "gps_altitude_m") * 1000);
    gps.eph = Math.round(n(values, "gps_hdop") * 100);
    gps.epv = 65535;
    gps.vel = Math.round(n(values, "gps_speed_ms") * 100);
    gps.cog = Math.round(n(values, "gps_course_degrees") * 100) % 36000;
    gps.satellitesVisible = n(values, "gps_satellites");

    const status = new common.SysStatus();
    status.load = 250;
    status.voltageBattery = Math.round(n(values, "battery_voltage_v") * 1000);
    status.currentBattery = Math.round(n(values, "battery_current_a") * 100);
    status.batteryRemaining = Math.round(n(values, "battery_remaining_percent"));

    const hud = new common.VfrHud();
    hud.groundspeed = n(values, "groundspeed_ms");
    hud.airspeed = n(values, "groundspeed_ms");
    hud.climb = n(values, "climb_rate_ms");
    hud.throttle = Math.round(n(values, "throttle_percent"));
    hud.heading = Math.round(n(values, "heading_degrees"));
    hud.alt = n(values, "baro_altitude_m");

    const servos = new common.ServoOutputRaw();
    servos.timeUsec = (bootMs * 1000) >>> 0;
    servos.port = 0;
    servos.servo1Raw = n(values, "motor1_pwm");
    servos.servo2Raw = n(values, "motor2_pwm");
    servos.servo3Raw = n(values, "motor3_pwm");
    servos.servo4Raw = n(values, "motor4_pwm");

    const radio = new common.RadioStatus();
    radio.rssi = Math.round(n(values, "rssi_percent") * 254 / 100);
    radio.remrssi = radio.rssi;

    return [heartbeat, time, attitude, position, gps, status, hud, servos, radio].map((message) =>
      this.packet(message)
    );
  }
}
