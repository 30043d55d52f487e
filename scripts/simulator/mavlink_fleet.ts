// deno-lint-ignore-file no-console -- the simulator's output
/**
 * `deno task simulate --mavlink udp://HOST:PORT`: the simulated drones speak MAVLink over UDP, as
 * PX4 flight controllers (system ids 1..N) would to a ground station or a router, so the bridge
 * (`deno task device:mavlink`) can be tried without hardware.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import { seededRandom, SimulatedFlight } from "./flight.ts";
import { MavlinkEncoder } from "./mavlink_out.ts";

export interface MavlinkFleetOptions {
  readonly drones: number;
  readonly hz: number;
  readonly duration: number;
  readonly home: { readonly lat: number; readonly lon: number; readonly alt: number };
}

/** Flies the drones until `duration` seconds have passed, SIGINT or SIGTERM. */
export function flyOverMavlink(target: string, options: MavlinkFleetOptions): Promise<void> {
  const match = /^udp:\/\/([^:/]+):(\d{1,5})$/.exec(target);
  if (!match) {
    console.error(`--mavlink must be udp://HOST:PORT, got "${target}"`);
    Deno.exit(2);
  }
  const [host, port] = [match[1]!, Number(match[2])];
  const socket = dgram.createSocket("udp4");
  const started = Date.now();
  const drones = Array.from({ length: options.drones }, (_, i) => ({
    flight: new SimulatedFlight({
      name: `mavlink-drone-${i + 1}`,
      home: { ...options.home, lat: options.home.lat + i * 0.002 },
      random: seededRandom(started + i),
      idleSeconds: 3 + i * 2,
    }),
    encoder: new MavlinkEncoder(i + 1),
  }));
  let sent = 0;
  const tick = setInterval(() => {
    const now = Date.now();
    for (const { flight, encoder } of drones) {
      const values = flight.step(1 / options.hz);
      // One datagram per drone and step: Deno's UDP receive (the bridge's) keeps up with tens of
      // datagrams a second on a busy machine, not with hundreds.
      const packets = encoder.vehicle(values, now - started, now);
      socket.send(Buffer.concat(packets), port, host);
      sent += packets.length;
    }
  }, 1000 / options.hz);
  console.log(
    `Flying ${options.drones} drones over MAVLink to udp://${host}:${port} at ${options.hz} Hz ` +
      `(system ids 1..${options.drones}; Ctrl-C stops)`,
  );
  return new Promise((resolve) => {
    const stop = () => {
      clearInterval(tick);
      socket.close();
      console.log(
        `Sent ${sent} MAVLink packets in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    if (Number.isFinite(options.duration)) setTimeout(stop, options.duration * 1000);
  });
}
