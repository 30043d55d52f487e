import { assertAlmostEquals, assertEquals } from "@std/assert";
import {
  ALTITUDE_SOURCES,
  altitudeFrom,
  compassDegrees,
  mapMessage,
  quaternionToEuler,
} from "./mapping.ts";

Deno.test("quaternionToEuler turns PX4 quaternions into roll, pitch and yaw degrees", () => {
  const half = Math.SQRT1_2;
  const yaw90 = quaternionToEuler([half, 0, 0, half]);
  assertAlmostEquals(yaw90.yaw, 90, 1e-9);
  assertAlmostEquals(yaw90.roll, 0, 1e-9);
  const roll30 = quaternionToEuler([Math.cos(Math.PI / 12), Math.sin(Math.PI / 12), 0, 0]);
  assertAlmostEquals(roll30.roll, 30, 1e-9);
  const pitch = quaternionToEuler([Math.cos(Math.PI / 8), 0, Math.sin(Math.PI / 8), 0]);
  assertAlmostEquals(pitch.pitch, 45, 1e-9);
});

Deno.test("compassDegrees wraps radians into [0, 360)", () => {
  assertAlmostEquals(compassDegrees(-Math.PI / 2) ?? NaN, 270, 1e-9);
  assertEquals(compassDegrees(undefined), undefined);
});

Deno.test("mapMessage converts units and leaves out NaN and values the catalogue cannot hold", () => {
  const gps = mapMessage("vehicle_gps_position", {
    lat: 634170622,
    lon: 104082151,
    alt: 66814,
    hdop: NaN,
    satellites_used: 15,
    fix_type: 3,
  });
  assertEquals(gps.fields, {
    gps_latitude: 63.4170622,
    gps_longitude: 10.4082151,
    gps_altitude_m: 66.814,
    gps_fix_type: 3,
    gps_satellites: 15,
  });
  const battery = mapMessage("battery_status", { remaining: 0.5, voltage_v: 500 });
  assertEquals(battery, { fields: { battery_remaining_percent: 50 }, outOfRange: 1 });
  const status = mapMessage("vehicle_status", { nav_state: 3, arming_state: 2, failsafe: false });
  assertEquals(status.fields, { flight_mode: "AUTO_MISSION", armed: true, failsafe_active: false });
  const motors = mapMessage("actuator_outputs", { noutputs: 2, output: [1500.4, 1499.6, 900] });
  assertEquals(motors.fields, { motor1_pwm: 1500, motor2_pwm: 1500 });
  assertEquals(mapMessage("wind_estimate", { windspeed_north: 1 }).fields, {});
});

Deno.test("ALTITUDE_SOURCES read global position, local position with its reference, then baro", () => {
  const [global, local, baro] = ALTITUDE_SOURCES;
  if (!global || !local || !baro) throw new Error("three altitude sources expected");
  assertEquals(altitudeFrom(global, { alt: 488.5 }), 488.5);
  assertEquals(altitudeFrom(global, { alt: NaN }), undefined);
  assertEquals(altitudeFrom(local, { z: -12.5, ref_alt: 480, z_global: true }), 492.5);
  // Without a valid reference altitude the local z is only relative to the start point.
  assertEquals(altitudeFrom(local, { z: -12.5, ref_alt: 0, z_global: false }), undefined);
  assertEquals(altitudeFrom(baro, { baro_alt_meter: 86.2 }), 86.2);
  assertEquals(altitudeFrom(baro, { baro_alt_meter: 60_000 }), undefined);
});
