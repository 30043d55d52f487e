/**
 * A simulated multicopter flying missions around a home point, one step at a time (pure: time
 * and randomness come from the caller, so tests are deterministic).
 *
 * Cycle: disarmed on the ground (MANUAL) → arm and spool up → TAKEOFF to mission altitude →
 * MISSION through waypoints on a circle around home → RTL → LAND → disarm, a fresh battery and a
 * new flight id, and again. Physics, simplified but consistent:
 * - a velocity controller gives the acceleration; roll and pitch are the tilt that points the
 *   thrust along it, so the accelerometer reads the thrust (0, 0, -|f|) in the body frame;
 * - throttle is the hover throttle scaled by the thrust needed; motor PWM follows it, with a
 *   small differential from the turn rates;
 * - current grows with throttle; the battery's charge and voltage (with sag) follow it;
 * - GPS has noise that grows with HDOP, and the satellite count wanders.
 *
 * @module
 */

const G = 9.81;
const DEG = 180 / Math.PI;
const HOVER_THROTTLE = 0.45;
const CAPACITY_MAH = 5000;
const CELLS = 4;

export type Phase = "idle" | "spool" | "takeoff" | "mission" | "rtl" | "land";

export const MODE_BY_PHASE: Readonly<Record<Phase, string>> = {
  idle: "MANUAL",
  spool: "TAKEOFF",
  takeoff: "TAKEOFF",
  mission: "MISSION",
  rtl: "RTL",
  land: "LAND",
};

/** Seeded random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FlightOptions {
  readonly name: string;
  readonly home: { readonly lat: number; readonly lon: number; readonly alt: number };
  readonly random: () => number;
  /** Seconds on the ground between flights. */
  readonly idleSeconds?: number;
}

type Vec = [number, number, number];

const clampLength = (v: Vec, max: number): Vec => {
  const length = Math.hypot(...v);
  return length <= max ? v : (v.map((x) => (x * max) / length) as Vec);
};

export class SimulatedFlight {
  phase: Phase = "idle";
  flightNumber = 0;
  flightId = "";
  /** Position and velocity in metres and m/s, north-east-down from home. */
  position: Vec = [0, 0, 0];
  velocity: Vec = [0, 0, 0];
  /** World acceleration of the last step (north, east, down). */
  acceleration: Vec = [0, 0, 0];
  consumedMah = 0;
  readonly #o: FlightOptions;
  #phaseTime = 0;
  #flightTime = 0;
  #yaw = 0;
  #attitude: Vec = [0, 0, 0];
  #waypoints: Vec[] = [];
  #satellites = 12;

  constructor(options: FlightOptions) {
    this.#o = options;
    this.#newFlight();
  }

  #noise(sigma: number): number {
    // Sum of uniforms: close enough to Gaussian for sensor noise.
    const r = this.#o.random;
    return (r() + r() + r() + r() - 2) * sigma * 1.7;
  }

  #newFlight(): void {
    this.flightNumber++;
    this.flightId = `sim-${this.#o.name}-${this.flightNumber}-${
      Math.floor(this.#o.random() * 1e9).toString(36)
    }`;
    this.consumedMah = 0;
    this.#flightTime = 0;
    const altitude = 30 + this.#o.random() * 20;
    const radius = 80 + this.#o.random() * 70;
    const start = this.#o.random() * 2 * Math.PI;
    this.#waypoints = [0, 1, 2, 3].map((i) => {
      const angle = start + (i * Math.PI) / 2;
      return [radius * Math.cos(angle), radius * Math.sin(angle), -altitude] as Vec;
    });
  }

  #enter(phase: Phase): void {
    this.phase = phase;
    this.#phaseTime = 0;
  }

  /** Target position of the current phase, or null on the ground. */
  #target(): Vec | null {
    const altitude = this.#waypoints[0]?.[2] ?? -30;
    switch (this.phase) {
      case "takeoff":
        return [0, 0, altitude];
      case "mission":
        return this.#waypoints[0] ?? null;
      case "rtl":
        return [0, 0, altitude];
      case "land":
        return [0, 0, 0.5];
      default:
        return null;
    }
  }

  #advancePhase(): void {
    const p = this.position;
    const target = this.#target();
    const distance = target ? Math.hypot(target[0] - p[0], target[1] - p[1], target[2] - p[2]) : 0;
    if (this.phase === "idle" && this.#phaseTime >= (this.#o.idleSeconds ?? 5)) {
      this.#enter("spool");
    } else if (this.phase === "spool" && this.#phaseTime >= 2) this.#enter("takeoff");
    else if (this.phase === "takeoff" && distance < 1.5) this.#enter("mission");
    else if (this.phase === "mission" && distance < 4) {
      this.#waypoints.shift();
      if (this.#waypoints.length === 0) this.#enter("rtl");
    } else if (this.phase === "rtl" && distance < 2) this.#enter("land");
    else if (this.phase === "land" && p[2] >= 0) {
      this.position = [p[0], p[1], 0];
      this.velocity = [0, 0, 0];
      this.#newFlight();
      this.#enter("idle");
    }
  }

  /** Advances by `dt` seconds and returns the frame the drone would send (catalogue names). */
  step(dt: number): Record<string, number | string | boolean> {
    this.#phaseTime += dt;
    this.#advancePhase();
    const armed = this.phase !== "idle";
    const flying = armed && this.phase !== "spool";
    if (flying) this.#flightTime += dt;

    // Velocity controller: toward the target, capped speed and acceleration.
    const target = this.#target();
    let accel: Vec = [0, 0, 0];
    if (flying && target) {
      const error = target.map((t, i) => t - (this.position[i] ?? 0)) as Vec;
      const horizontal = clampLength([error[0] * 0.5, error[1] * 0.5, 0], 8);
      const vertical = Math.max(-3, Math.min(this.phase === "land" ? 1 : 3, error[2] * 0.6));
      const wanted: Vec = [horizontal[0], horizontal[1], vertical];
      accel = clampLength(wanted.map((w, i) => (w - (this.velocity[i] ?? 0)) * 1.5) as Vec, 4);
    }
    this.acceleration = accel;
    this.velocity = this.velocity.map((v, i) => v + (accel[i] ?? 0) * dt) as Vec;
    this.position = this.position.map((x, i) => x + (this.velocity[i] ?? 0) * dt) as Vec;
    if (this.position[2] > 0) this.position[2] = 0;

    // Yaw turns toward the direction of travel at up to 45°/s.
    const speed = Math.hypot(this.velocity[0], this.velocity[1]);
    if (speed > 1) {
      const wanted = Math.atan2(this.velocity[1], this.velocity[0]);
      const turn = Math.atan2(Math.sin(wanted - this.#yaw), Math.cos(wanted - this.#yaw));
      this.#yaw += Math.max(-Math.PI / 4 * dt, Math.min(Math.PI / 4 * dt, turn));
    }
    // Tilt that points the thrust (specific force a - g) along the needed acceleration.
    const forward = accel[0] * Math.cos(this.#yaw) + accel[1] * Math.sin(this.#yaw);
    const right = -accel[0] * Math.sin(this.#yaw) + accel[1] * Math.cos(this.#yaw);
    const lift = G - accel[2];
    const attitude: Vec = flying
      ? [Math.atan2(right, lift), Math.atan2(-forward, lift), this.#yaw]
      : [0, 0, this.#yaw];
    const rates = attitude.map((a, i) => (a - (this.#attitude[i] ?? 0)) / dt) as Vec;
    this.#attitude = attitude;
    const thrust = Math.hypot(accel[0], accel[1], lift);
    const throttle = !armed ? 0 : flying ? Math.min(1, HOVER_THROTTLE * (thrust / G)) : 0.1;

    // Battery: current from throttle, charge used, voltage from charge with sag under load.
    const current = armed ? 0.8 + 45 * throttle ** 1.5 : 0.3;
    this.consumedMah += (current * dt * 1000) / 3600;
    const remaining = Math.max(0, 1 - this.consumedMah / CAPACITY_MAH);
    const voltage = CELLS * (3.5 + 0.7 * remaining) - current * 0.015;

    // GPS: the satellite count wanders; noise grows with HDOP.
    if (this.#o.random() < 0.05) {
      this.#satellites = Math.max(
        6,
        Math.min(20, this.#satellites + (this.#o.random() < 0.5 ? -1 : 1)),
      );
    }
    const hdop = 0.5 + 8 / this.#satellites;
    const north = this.position[0] + this.#noise(hdop);
    const east = this.position[1] + this.#noise(hdop);
    const { lat, lon, alt } = this.#o.home;
    const height = -this.position[2];
    const pwm = (bias: number) =>
      armed ? Math.round(Math.max(1000, Math.min(2000, 1000 + throttle * 1000 + bias))) : 0;
    const [rollRate, pitchRate, yawRate] = rates;
    return {
      flight_id: this.flightId,
      flight_mode: MODE_BY_PHASE[this.phase],
      armed,
      flight_time_seconds: this.#flightTime,
      roll_degrees: attitude[0] * DEG,
      pitch_degrees: attitude[1] * DEG,
      yaw_degrees: ((attitude[2] * DEG + 540) % 360) - 180,
      heading_degrees: ((attitude[2] * DEG) % 360 + 360) % 360,
      roll_rate_dps: rollRate * DEG,
      pitch_rate_dps: pitchRate * DEG,
      yaw_rate_dps: yawRate * DEG,
      accel_x_ms2: this.#noise(0.05),
      accel_y_ms2: this.#noise(0.05),
      accel_z_ms2: -(flying ? thrust : G) + this.#noise(0.05),
      gps_fix_type: 3,
      gps_satellites: this.#satellites,
      gps_latitude: lat + north / 111_320,
      gps_longitude: lon + east / (111_320 * Math.cos((lat * Math.PI) / 180)),
      gps_altitude_m: alt + height + this.#noise(hdop * 1.5),
      gps_speed_ms: speed,
      gps_course_degrees: ((Math.atan2(this.velocity[1], this.velocity[0]) * DEG) + 360) % 360,
      gps_hdop: hdop,
      altitude_m: height,
      baro_altitude_m: alt + height + this.#noise(0.3),
      climb_rate_ms: -this.velocity[2],
      groundspeed_ms: speed,
      throttle_percent: throttle * 100,
      battery_voltage_v: voltage,
      battery_current_a: current,
      battery_consumed_mah: this.consumedMah,
      battery_remaining_percent: remaining * 100,
      // Quad X: front-right, rear-left, front-left, rear-right (PX4 order).
      motor1_pwm: pwm(-rollRate * 20 - pitchRate * 20 + yawRate * 20),
      motor2_pwm: pwm(rollRate * 20 + pitchRate * 20 + yawRate * 20),
      motor3_pwm: pwm(rollRate * 20 - pitchRate * 20 - yawRate * 20),
      motor4_pwm: pwm(-rollRate * 20 + pitchRate * 20 - yawRate * 20),
      position_x_m: this.position[0],
      position_y_m: this.position[1],
      position_z_m: this.position[2],
      velocity_x_ms: this.velocity[0],
      velocity_y_ms: this.velocity[1],
      velocity_z_ms: this.velocity[2],
      rssi_percent: Math.round(Math.max(20, 95 - Math.hypot(north, east) / 10)),
    };
  }
}
