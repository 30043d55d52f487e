/**
 * The MAVLink bridge takes random bytes, truncated packets and bad CRCs without crashing, on UDP
 * and on TCP, and its counts add up: over TCP (no datagram is lost) every valid packet sent is
 * counted as received, and the bad ones only as bad or unknown; the frames it makes meanwhile
 * are stored.
 */
import { assert, assertEquals } from "@std/assert";
import { Buffer } from "node:buffer";
import net from "node:net";
import { seededRandom, SimulatedFlight } from "../../scripts/simulator/flight.ts";
import { MavlinkEncoder } from "../../scripts/simulator/mavlink_out.ts";
import { freeUdpPort, startBridge, stopBridge, udpSender } from "../_bridge.ts";
import { createDevice, createUser, FUNCTIONS_URL, sql } from "./_helpers.ts";

const random = seededRandom(2026);
const randomBytes = (length: number) =>
  Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));

/** Steps of a flight as MAVLink, and corrupted copies: bad CRC, truncated, random bytes. */
function traffic(steps: number) {
  const encoder = new MavlinkEncoder(1);
  const flight = new SimulatedFlight({
    name: "fuzz",
    home: { lat: 47.3977, lon: 8.5456, alt: 488 },
    random,
    idleSeconds: 1,
  });
  const unix0 = Date.now();
  const chunks: { bytes: Buffer; valid: number }[] = [];
  for (let i = 0; i < steps; i++) {
    const packets = encoder.vehicle(flight.step(0.1), 1_000 + i * 100, unix0 + i * 100);
    chunks.push({ bytes: Buffer.concat(packets), valid: packets.length });
    const victim = Buffer.from(packets[2 + (i % 6)]!);
    if (i % 3 === 0) {
      victim[victim.length - 2]! ^= 0x5a; // bad CRC
      chunks.push({ bytes: victim, valid: 0 });
    } else if (i % 3 === 1) {
      chunks.push({ bytes: victim.subarray(0, 6 + (i % 10)), valid: 0 }); // truncated
    } else {
      chunks.push({ bytes: randomBytes(1 + Math.floor(random() * 400)), valid: 0 });
    }
  }
  return chunks;
}

async function deviceKey(): Promise<{ id: string; key: string }> {
  return await createDevice(await createUser(), "mavlink fuzz");
}

Deno.test({
  name: "the MAVLink bridge survives random bytes, truncated packets and bad CRCs over UDP",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const device = await deviceKey();
    const port = await freeUdpPort();
    const bridge = startBridge([
      "--device-key",
      device.key,
      "--url",
      FUNCTIONS_URL,
      "--listen",
      `udpserver://127.0.0.1:${port}`,
    ]);
    await bridge.ready;
    const sender = udpSender(port);
    const chunks = traffic(60);
    for (const chunk of chunks) {
      await sender.send(chunk.bytes);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    sender.close();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stats = await stopBridge(bridge);
    const valid = chunks.reduce((sum, chunk) => sum + chunk.valid, 0);
    assert(stats.received <= valid, `received ${stats.received} of ${valid}`);
    assert(stats.bad_packets > 0, "the corrupted datagrams were counted");
    assert(stats.produced > 0 && stats.acknowledged === stats.produced);
    await sql("select public.flush_telemetry()");
    assertEquals(
      await sql(`select count(*) from telemetry.telemetry where device_id = '${device.id}'`),
      String(stats.produced),
    );
  },
});

Deno.test({
  name: "the MAVLink bridge counts every valid packet of a TCP stream mixed with garbage",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const device = await deviceKey();
    const chunks = traffic(40);
    // The bridge connects to us, as to ArduPilot SITL's TCP port.
    let connected: (socket: net.Socket) => void = () => {};
    const connection = new Promise<net.Socket>((resolve) => (connected = resolve));
    const server = net.createServer((socket) => connected(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    const bridge = startBridge([
      "--device-key",
      device.key,
      "--url",
      FUNCTIONS_URL,
      "--listen",
      `tcp://127.0.0.1:${port}`,
    ]);
    const socket = await connection;
    for (const chunk of chunks) {
      // Written in uneven pieces, as a stream delivers them.
      const cut = Math.floor(random() * chunk.bytes.length);
      socket.write(chunk.bytes.subarray(0, cut));
      socket.write(chunk.bytes.subarray(cut));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stats = await stopBridge(bridge);
    socket.destroy();
    server.close();
    const valid = chunks.reduce((sum, chunk) => sum + chunk.valid, 0);
    assertEquals(stats.received, valid, "every valid packet, none of the garbage");
    assert(stats.bad_packets >= chunks.length - 40, "each corrupted chunk counted as bad");
    assertEquals(stats.unknown_messages, 0);
    assert(stats.produced > 0 && stats.acknowledged === stats.produced);
  },
});
