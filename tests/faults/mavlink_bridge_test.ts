/**
 * The MAVLink bridge through an outage and a crash, end to end: a PX4-like MAVLink stream made
 * with node-mavlink's encoder goes over UDP at 50 Hz for 60 s of vehicle time into the bridge
 * (10 Hz frames, with a disk spool). The gateway is stopped from 20 s to 40 s; at 30 s, while it
 * is down, the bridge is killed with SIGKILL and started again on the same spool. Then: the
 * frames stored are exactly the frames the bridges produced, none twice; their values are the
 * messages' values after unit conversion; and no gap in vehicle time is longer than 2/rate
 * except while no bridge was running.
 */
import { assert, assertEquals } from "@std/assert";
import { Buffer } from "node:buffer";
import { seededRandom, SimulatedFlight } from "../../scripts/simulator/flight.ts";
import { MavlinkEncoder } from "../../scripts/simulator/mavlink_out.ts";
import { freeUdpPort, startBridge, stopBridge, udpSender } from "../_bridge.ts";
import { killComponent, startStack } from "../_stack.ts";
import { createDevice, createUser, FUNCTIONS_URL, sql } from "../integration/_helpers.ts";

const HZ = 50;
const RATE = 10;
const SECONDS = 60;
const BOOT0 = 1_000;

Deno.test({
  name:
    "the MAVLink bridge stores every frame it produced once through a gateway outage and a SIGKILL",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const device = await createDevice(await createUser(), "mavlink bridge");
    const spool = await Deno.makeTempDir({ prefix: "bridge-spool-" });
    const port = await freeUdpPort();
    const args = [
      "--device-key",
      device.key,
      "--url",
      FUNCTIONS_URL,
      "--listen",
      `udpserver://127.0.0.1:${port}`,
      "--rate",
      String(RATE),
      "--spool",
      spool,
      "--stats-every",
      "1",
    ];
    const unix0 = Math.floor(Date.now() / 1000) * 1000;
    const flight = new SimulatedFlight({
      name: "bridge",
      home: { lat: 47.3977, lon: 8.5456, alt: 488 },
      random: seededRandom(42),
      idleSeconds: 2,
    });
    const encoder = new MavlinkEncoder(1);
    const sender = udpSender(port);
    const sent = new Map<number, Record<string, number | string | boolean>>();

    const first = startBridge(args);
    await first.ready;
    let second: ReturnType<typeof startBridge> | null = null;
    let killedAtBoot = 0;
    let readyAtBoot = 0;
    let boot = BOOT0;
    const background: Promise<unknown>[] = [];
    const started = performance.now();
    for (let i = 0; i < SECONDS * HZ; i++) {
      const due = started + (i * 1000) / HZ;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      boot = BOOT0 + (i * 1000) / HZ;
      if (i === 20 * HZ) background.push(killComponent("gateway"));
      if (i === 30 * HZ) {
        first.child.kill("SIGKILL");
        await first.child.status;
        killedAtBoot = boot;
        second = startBridge(args);
        background.push(second.ready.then(() => (readyAtBoot = boot)));
      }
      if (i === 40 * HZ) background.push(startStack());
      const values = flight.step(1 / HZ);
      sent.set(boot, values);
      // A step's messages in one datagram (as mavlink-router may send them): Deno's UDP receive
      // falls behind hundreds of small datagrams a second on a loaded machine (see README).
      await sender.send(Buffer.concat(encoder.vehicle(values, boot, unix0 + boot)));
    }
    sender.close();
    await Promise.all(background);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const firstRun = first.stats[first.stats.length - 1]!;
    const secondRun = await stopBridge(second!);
    await Deno.remove(spool, { recursive: true });

    // What was produced: what the first run had acknowledged when it was killed (nothing was
    // acknowledged after the gateway stopped, 10 s before), what it left in the spool, and what
    // the second run made.
    assertEquals(secondRun.spooled, 0, "the second run sent everything before it exited");
    assert(secondRun.recovered > 0, "the first run left frames in the spool");
    const produced = firstRun.acknowledged + secondRun.recovered + secondRun.produced;
    assertEquals(secondRun.acknowledged, secondRun.recovered + secondRun.produced);
    assertEquals(secondRun.dropped + firstRun.dropped, 0);

    await sql("select public.flush_telemetry()");
    const rows = await sql(`
      select json_agg(json_build_object(
        'ms', (extract(epoch from recorded_at) * 1000)::bigint, 'roll', roll_degrees,
        'lat', gps_latitude, 'volts', battery_voltage_v, 'motor1', motor1_pwm,
        'climb', climb_rate_ms, 'armed', armed, 'flight', flight_id) order by recorded_at)
      from telemetry.telemetry where device_id = '${device.id}'`);
    const frames: Array<Record<string, number | string | boolean | null>> = JSON.parse(rows);
    assertEquals(frames.length, produced, "stored == produced");
    const stamps = frames.map((frame) => Number(frame.ms));
    assertEquals(new Set(stamps).size, stamps.length, "no frame twice");
    assertEquals(
      await sql(`select count(*) from telemetry.telemetry_rejects
                            where device_id = '${device.id}'`),
      "0",
    );

    // Values: the frame of tick t holds what the messages of the step before it said.
    // A datagram the kernel dropped while a bridge was busy leaves a field at an older value, so
    // a frame may hold an earlier step's values; a loaded machine drops a few.
    let compared = 0;
    let exact = 0;
    const wrong: string[] = [];
    const near = (a: unknown, b: unknown, tolerance: number) =>
      Math.abs(Number(a) - Number(b)) <= tolerance;
    const matches = (frame: Record<string, unknown>, values: Record<string, unknown>) =>
      near(frame.roll, values.roll_degrees, 1e-3) && near(frame.lat, values.gps_latitude, 1e-7) &&
      near(frame.volts, values.battery_voltage_v, 1e-3) &&
      near(frame.climb, values.climb_rate_ms, 1e-4) && frame.motor1 === values.motor1_pwm;
    for (const frame of frames) {
      const tick = Number(frame.ms) - unix0;
      if (!sent.has(tick - 1000 / HZ) || frame.roll === null) continue; // made from a HEARTBEAT
      compared++;
      const steps = [1, 2, 3, 4, 5].map((k) => sent.get(tick - (k * 1000) / HZ));
      const found = steps.findIndex((values) => values && matches(frame, values));
      if (found === 0) exact++;
      if (found < 0) wrong.push(`${tick}: ${JSON.stringify(frame)}`);
    }
    assertEquals(wrong, [], "frames whose values are no recent message's values");
    assert(exact >= compared * 0.95, `${exact} of ${compared} frames hold the last step's values`);
    assert(compared >= frames.length - 5, `${compared} of ${frames.length} frames compared`);
    assert(frames.some((frame) => frame.armed === true && typeof frame.flight === "string"));

    // Gaps: none longer than 2/rate, but while no bridge ran (killed, then starting again).
    for (let i = 1; i < stamps.length; i++) {
      const [from, to] = [stamps[i - 1]! - unix0, stamps[i]! - unix0];
      if (to - from <= 2000 / RATE) continue;
      assert(
        from >= killedAtBoot - 2000 / RATE && to <= readyAtBoot + 2000 / RATE,
        `a gap of ${to - from} ms at boot ${from} ms, outside the bridge's restart ` +
          `(${killedAtBoot}..${readyAtBoot} ms)`,
      );
    }
  },
});
