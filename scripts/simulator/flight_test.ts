import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { seededRandom, SimulatedFlight } from "./flight.ts";

const DT = 0.2;

function fly(seconds: number) {
  const flight = new SimulatedFlight({
    name: "t",
    home: { lat: 47.4, lon: 8.5, alt: 400 },
    random: seededRandom(7),
    idleSeconds: 2,
  });
  const frames: Array<Record<string, number | string | boolean>> = [];
  const accelerations: number[][] = [];
  for (let t = 0; t < seconds; t += DT) {
    frames.push(flight.step(DT));
    accelerations.push(flight.acceleration);
  }
  return { frames, accelerations };
}

const { frames, accelerations } = fly(900);

Deno.test("a simulated drone flies the whole cycle and loops with a new flight id", () => {
  const modes: string[] = [];
  for (const f of frames) if (modes.at(-1) !== f.flight_mode) modes.push(String(f.flight_mode));
  assertEquals(modes.slice(0, 6), ["MANUAL", "TAKEOFF", "MISSION", "RTL", "LAND", "MANUAL"]);
  const flights = [...new Set(frames.map((f) => f.flight_id))];
  assert(flights.length >= 2, `expected a second flight, got ${flights}`);
  assert(frames.filter((f) => f.flight_mode === "MANUAL").every((f) => f.armed === false));
  assert(frames.filter((f) => f.flight_mode === "MISSION").every((f) => f.armed === true));
  assert(Math.max(...frames.map((f) => Number(f.altitude_m))) > 25);
});

Deno.test("the battery drains with current while flying and is replaced between flights", () => {
  const first = frames.filter((f) => f.flight_id === frames[0]?.flight_id);
  const charge = first.map((f) => Number(f.battery_remaining_percent));
  assert(charge.every((c, i) => i === 0 || c <= (charge[i - 1] ?? 100)));
  assert((charge.at(-1) ?? 100) < 95);
  const hovering = first.find((f) => f.flight_mode === "MISSION");
  const idle = first.find((f) => f.flight_mode === "MANUAL");
  assert(Number(hovering?.battery_current_a) > 10 * Number(idle?.battery_current_a));
});

Deno.test("attitude is the tilt of the thrust that gives the acceleration", () => {
  frames.forEach((f, i) => {
    if (f.flight_mode !== "MISSION") return;
    const yaw = (Number(f.heading_degrees) * Math.PI) / 180;
    const [n = 0, e = 0, d = 0] = accelerations[i] ?? [];
    const forward = n * Math.cos(yaw) + e * Math.sin(yaw);
    const lift = 9.81 - d;
    assertAlmostEquals(
      Math.tan((Number(f.pitch_degrees) * Math.PI) / 180),
      -forward / lift,
      1e-6,
    );
    assertAlmostEquals(Number(f.accel_z_ms2), -Math.hypot(n, e, lift), 0.5);
  });
});

Deno.test("motor PWM follows the throttle and stops when disarmed", () => {
  for (const f of frames) {
    const motors = [f.motor1_pwm, f.motor2_pwm, f.motor3_pwm, f.motor4_pwm].map(Number);
    if (!f.armed) assertEquals(motors, [0, 0, 0, 0]);
    else {
      const mean = motors.reduce((a, b) => a + b) / 4;
      assert(Math.abs(mean - (1000 + Number(f.throttle_percent) * 10)) < 60);
    }
  }
});

Deno.test("GPS noise and satellite count vary", () => {
  assert(new Set(frames.map((f) => f.gps_satellites)).size > 2);
  const still = frames.filter((f) => f.flight_mode === "MANUAL").slice(0, 10);
  assert(new Set(still.map((f) => f.gps_latitude)).size > 5);
});
