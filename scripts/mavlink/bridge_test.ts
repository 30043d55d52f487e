import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { Buffer } from "node:buffer";
import { ardupilotmega, common, minimal } from "node-mavlink";
import { DeviceClient } from "../device/client.ts";
import type { Frame } from "../device/send.ts";
import { MavlinkEncoder } from "../simulator/mavlink_out.ts";
import { seededRandom, SimulatedFlight } from "../simulator/flight.ts";
import { MavlinkBridge } from "./bridge.ts";
import { MavlinkDecoder } from "./decoder.ts";
import { fieldsOf } from "./fields.ts";
import { FrameMaker } from "./frames.ts";
import { flightModeName } from "./modes.ts";

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);

function flight(seed = 1) {
  return new SimulatedFlight({
    name: "t",
    home: { lat: 47.3977, lon: 8.5456, alt: 488 },
    random: seededRandom(seed),
    idleSeconds: 1,
  });
}

/** Every mapped field of a decoded vehicle step, merged as the bridge merges them. */
function decodeStep(values: Record<string, number | string | boolean>) {
  const decoder = new MavlinkDecoder();
  const merged: Record<string, unknown> = {};
  for (const packet of new MavlinkEncoder().vehicle(values, 5_000, T0)) {
    for (const message of decoder.decode(packet, true)) Object.assign(merged, fieldsOf(message));
  }
  return { merged, counts: decoder.counts };
}

Deno.test("fieldsOf converts each message's units into the catalogue's", () => {
  const sim = flight();
  let values = sim.step(0.1);
  for (let i = 0; i < 200; i++) values = sim.step(0.1); // airborne by now
  assertEquals(values.armed, true);
  const { merged, counts } = decodeStep(values);
  assertEquals(counts, { messages: 9, unknown: 0, bad: 0 });
  const close = (field: string, tolerance: number, expected = Number(values[field])) =>
    assertAlmostEquals(Number(merged[field]), expected, tolerance, field);
  for (const field of ["roll_degrees", "pitch_degrees", "yaw_degrees"]) close(field, 1e-4);
  for (const field of ["roll_rate_dps", "pitch_rate_dps", "yaw_rate_dps"]) close(field, 1e-3);
  close("gps_latitude", 1e-7);
  close("gps_longitude", 1e-7);
  close("altitude_m", 1e-3, Number(values.baro_altitude_m)); // GLOBAL_POSITION_INT alt is MSL
  close("gps_altitude_m", 1e-3);
  for (const axis of ["x", "y", "z"]) close(`velocity_${axis}_ms`, 0.005);
  close("heading_degrees", 0.005);
  close("gps_hdop", 0.005);
  close("gps_speed_ms", 0.005);
  close("gps_course_degrees", 0.005);
  close("battery_voltage_v", 0.0005);
  close("battery_current_a", 0.005);
  close("battery_remaining_percent", 0.5);
  close("groundspeed_ms", 1e-4);
  close("climb_rate_ms", 1e-4);
  close("throttle_percent", 0.5);
  close("rssi_percent", 0.5);
  for (let i = 1; i <= 4; i++) close(`motor${i}_pwm`, 0);
  assertEquals(merged.armed, true);
  assertEquals(merged.flight_mode, `AUTO_${values.flight_mode}`);
  assertEquals(merged.cpu_load_percent, 25);
  assertEquals(merged.gps_vdop, undefined, "UINT16_MAX means unknown");
});

Deno.test("fieldsOf reads SCALED_IMU, HIGHRES_IMU, SCALED_PRESSURE, RC_CHANNELS and VIBRATION", () => {
  const encoder = new MavlinkEncoder();
  const decoder = new MavlinkDecoder();
  const imu = new common.ScaledImu();
  imu.xacc = 1000; // mG
  imu.zacc = -1000;
  imu.xmag = 250; // mgauss
  const highres = new common.HighresImu();
  highres.yacc = 2.5;
  highres.ymag = 0.4;
  highres.fieldsUpdated = (1 << 1) | (1 << 7);
  const pressure = new common.ScaledPressure();
  pressure.pressAbs = 1013.25; // hPa
  pressure.temperature = 2150; // cdegC
  const rc = new common.RcChannels();
  rc.chan1Raw = 1500;
  rc.chan3Raw = 1100;
  rc.chan8Raw = 65535; // unused
  const vibration = new common.Vibration();
  vibration.vibrationZ = 12.5;
  const values: Record<string, unknown> = {};
  for (const message of [imu, highres, pressure, rc, vibration]) {
    for (const decoded of decoder.decode(encoder.packet(message), true)) {
      Object.assign(values, fieldsOf(decoded));
    }
  }
  assertAlmostEquals(Number(values.accel_x_ms2), 9.80665, 1e-6);
  assertAlmostEquals(Number(values.accel_z_ms2), -9.80665, 1e-6);
  assertAlmostEquals(Number(values.magnetometer_x), 0.25, 1e-9);
  assertAlmostEquals(Number(values.accel_y_ms2), 2.5, 1e-6);
  assertAlmostEquals(Number(values.magnetometer_y), 0.4, 1e-6);
  assertAlmostEquals(Number(values.baro_pressure_pa), 101_325, 0.01);
  assertAlmostEquals(Number(values.baro_temperature_c), 21.5, 1e-9);
  assertEquals([values.rc_roll, values.rc_throttle, values.rc_aux4], [1500, 1100, undefined]);
  assertAlmostEquals(Number(values.vibration_z), 12.5, 1e-6);
});

Deno.test("flightModeName names PX4 and ArduPilot custom modes, and others by number", () => {
  assertEquals(flightModeName(12, 2, (4 << 16) | (4 << 24)), "AUTO_MISSION");
  assertEquals(flightModeName(12, 2, 3 << 16), "POSCTL");
  assertEquals(flightModeName(3, 2, 5), "LOITER");
  assertEquals(flightModeName(3, 1, 5), "FBWA");
  assertEquals(flightModeName(3, 10, 4), "HOLD");
  assertEquals(flightModeName(0, 2, 7), "MODE_7");
});

Deno.test("MavlinkDecoder counts bad CRCs, truncated packets, random bytes and unknown messages", () => {
  const encoder = new MavlinkEncoder();
  const decoder = new MavlinkDecoder();
  const good = encoder.packet(new minimal.Heartbeat());
  const badCrc = Buffer.from(good);
  badCrc[badCrc.length - 1]! ^= 0xff;
  // A valid packet of ArduPilot's own dialect: its CRC checks out, but the bridge maps no field.
  const unknown = encoder.packet(new ardupilotmega.Ahrs());
  const noSuchMessage = Buffer.from(encoder.packet(new minimal.Heartbeat()));
  noSuchMessage.writeUIntLE(12345, 7, 3); // a message id no dialect has (v2: bytes 7-9)
  const random = seededRandom(7);
  const junk = Buffer.from(Array.from({ length: 300 }, () => Math.floor(random() * 256)));
  assertEquals(decoder.decode(good, true).length, 1);
  assertEquals(decoder.decode(badCrc, true).length, 0);
  assertEquals(decoder.decode(good.subarray(0, 10), true).length, 0);
  assertEquals(decoder.decode(unknown, true).length, 0);
  assertEquals(decoder.decode(noSuchMessage, true).length, 0);
  decoder.decode(junk, true);
  assertEquals(decoder.decode(Buffer.concat([good, good]), true).length, 2);
  assertEquals(decoder.counts.messages, 3);
  assertEquals(decoder.counts.unknown, 1);
  assert(decoder.counts.bad >= 4, `bad ${decoder.counts.bad}`);
});

Deno.test("MavlinkDecoder joins a packet split across stream chunks", () => {
  const packet = new MavlinkEncoder().packet(new minimal.Heartbeat());
  const decoder = new MavlinkDecoder();
  assertEquals(decoder.decode(packet.subarray(0, 5), false).length, 0);
  assertEquals(decoder.decode(packet.subarray(5), false).length, 1);
  assertEquals(decoder.counts.bad, 0);
});

Deno.test("FrameMaker makes one frame per tick of vehicle time, stamped with its Unix clock", () => {
  const maker = new FrameMaker({ rate: 10 });
  const sim = flight(3);
  const encoder = new MavlinkEncoder();
  const decoder = new MavlinkDecoder();
  const frames: Frame[] = [];
  const flights = new Set<string>();
  const bootAtStart = 60_000;
  // 50 Hz for 30 s of vehicle time; the receive clock runs 7 s behind and jitters.
  for (let i = 0; i < 1500; i++) {
    const values = sim.step(0.02);
    const boot = bootAtStart + i * 20;
    for (const packet of encoder.vehicle(values, boot, T0 + i * 20)) {
      for (const message of decoder.decode(packet, true)) {
        frames.push(...maker.take(message, T0 - 7_000 + i * 20 + (i % 3)));
      }
    }
  }
  for (const frame of frames) if (typeof frame.flight_id === "string") flights.add(frame.flight_id);
  const stamps = frames.map((frame) => Date.parse(String(frame.ts)));
  assertEquals(frames.length, 300, "one per 100 ms tick from boot 60.0 s to 89.9 s");
  stamps.forEach((stamp, i) => {
    if (i > 0) assertEquals(stamp - stamps[i - 1]!, 100);
  });
  assertEquals(stamps[0]! % 100, 0);
  assertEquals(stamps[0], T0, "stamped with SYSTEM_TIME's clock, not the receive time");
  assert(flights.size >= 1, "the flight got an id at arming");
  assert(frames.some((frame) => frame.armed === false && frame.flight_id === undefined));
});

Deno.test("MavlinkBridge follows one system id and says once how to bridge another", () => {
  const client = new DeviceClient({ functionsUrl: "http://127.0.0.1:9", deviceKey: "k" });
  const warnings: string[] = [];
  let now = T0;
  const bridge = new MavlinkBridge({
    client,
    rate: 10,
    warn: (m) => warnings.push(m),
    now: () => now,
  });
  const one = new MavlinkEncoder(1);
  const two = new MavlinkEncoder(2);
  const values = flight().step(0.1);
  for (let i = 0; i < 20; i++) {
    now += 50;
    for (const packet of one.vehicle(values, 1_000 + i * 50, T0 + i * 50)) {
      bridge.receive(packet, true);
    }
    for (const packet of two.vehicle(values, 1_000 + i * 50, T0 + i * 50)) {
      bridge.receive(packet, true);
    }
  }
  const stats = bridge.stats();
  assertEquals(stats.received, 360);
  assertEquals(stats.ignored, 180);
  assertEquals(stats.produced, 10, "10 Hz over boot times 1.00 to 1.95 s");
  assertEquals(warnings.length, 1);
  assert(warnings[0]!.includes("--system-id 2"));
});

Deno.test("FrameMaker follows the bridge's clock for a vehicle heard without timed messages only", () => {
  const maker = new FrameMaker({ rate: 10 });
  const heartbeat = new MavlinkDecoder().decode(
    new MavlinkEncoder().vehicle(flight().step(0.1), 1_000, T0)[0]!,
    true,
  )[0]!;
  assertEquals(heartbeat.name, "HEARTBEAT");
  let frames = 0;
  for (let now = T0; now < T0 + 5_000; now += 100) {
    if (now < T0 + 2_000) maker.take(heartbeat, now);
    frames += maker.tick(now).length;
  }
  // The last heartbeat is at 1.9 s: frames at 0.0 … 3.8 s, 10 Hz, none after 2 s of silence.
  assertEquals(frames, 39);
});

Deno.test("FrameMaker waits up to 3 s for SYSTEM_TIME before it stamps with the receive time", () => {
  const encoder = new MavlinkEncoder();
  const decoder = new MavlinkDecoder();
  const values = flight().step(0.1);
  const attitudeOnly = (boot: number) =>
    decoder.decode(encoder.vehicle(values, boot, T0 + boot)[2]!, true)[0]!;
  const withClock = new FrameMaker({ rate: 10 });
  const withoutClock = new FrameMaker({ rate: 10 });
  const stamped: number[] = [];
  let late = 0;
  for (let boot = 0; boot < 5_000; boot += 100) {
    late += withoutClock.take(attitudeOnly(boot), 9_000_000 + boot).length;
    const messages = boot === 1_000
      ? encoder.vehicle(values, boot, T0 + boot).map((p) => decoder.decode(p, true)[0]!)
      : [attitudeOnly(boot)];
    for (const message of messages) {
      for (const frame of withClock.take(message, 9_000_000 + boot)) {
        stamped.push(Date.parse(String(frame.ts)));
      }
    }
  }
  assertEquals(stamped[0], T0 + 1_000, "nothing before SYSTEM_TIME, then the vehicle's clock");
  assertEquals(late, 20, "without SYSTEM_TIME: frames from 3 s on, on the receive clock");
});
