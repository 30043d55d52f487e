// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Simulated drones flying missions and sending telemetry over the real API of the local stack,
 * each with its own device (created through the `devices` function) and the device client.
 *
 * Usage: deno task simulate [--drones N] [--hz H] [--duration SECONDS] [--state FILE]
 *                           [--mavlink udp://HOST:PORT]
 *   --drones    drones to fly (default 3, or env SIMULATE_DRONES)
 *   --hz        frames per second per drone (default 5, or env SIMULATE_HZ)
 *   --duration  stop after this many seconds (default: until Ctrl-C or SIGTERM)
 *   --state     where the devices and their keys are kept, so a restart reuses them
 *               (default .stack/simulator.json)
 *   --mavlink   speak MAVLink instead, as PX4 flight controllers would (system ids 1..N), to a
 *               bridge listening there (`deno task device:mavlink`); no device is created
 * A progress table shows, per drone, frames produced, stored, rejected, pending and the rate;
 * stopping prints a summary (the device ids, for telemetry-query).
 */
import { DeviceClient } from "./device/client.ts";
import { flyOverMavlink } from "./simulator/mavlink_fleet.ts";
import { seededRandom, SimulatedFlight } from "./simulator/flight.ts";
import { loadKeys, mintUserToken } from "./stack/keys.ts";
import { GATEWAY_URL, stackPath } from "./stack/layout.ts";
import * as postgres from "./stack/postgres.ts";

const FUNCTIONS_URL = `${GATEWAY_URL}/functions/v1`;
const HOME = { lat: 47.3977, lon: 8.5456, alt: 488 };

interface SimDevice {
  id: string;
  key: string;
  name: string;
}
interface State {
  ownerId: string;
  devices: SimDevice[];
}

function option(name: string, env: string, fallback: number): number {
  const index = Deno.args.indexOf(name);
  const raw = index >= 0 ? Deno.args[index + 1] : Deno.env.get(env);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`${name} must be a positive number, got "${raw}"`);
    Deno.exit(2);
  }
  return value;
}

async function loadState(file: string): Promise<State | null> {
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch {
    return null;
  }
}

/** Reuses the devices of the state file, creating the missing ones through `devices`. */
async function devices(count: number, file: string): Promise<State> {
  const state = await loadState(file) ?? { ownerId: crypto.randomUUID(), devices: [] };
  await postgres.psql(
    `insert into auth.users (id) values ('${state.ownerId}') on conflict do nothing`,
  );
  const token = await mintUserToken(await loadKeys(), state.ownerId);
  while (state.devices.length < count) {
    const name = `sim-drone-${state.devices.length + 1}`;
    const response = await fetch(`${FUNCTIONS_URL}/devices`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    const body = await response.json().catch(() => null);
    if (response.status !== 201 || typeof body?.device?.key !== "string") {
      throw new Error(`Creating ${name} failed (${response.status}): ${JSON.stringify(body)}`);
    }
    state.devices.push({ id: body.device.id, key: body.device.key, name });
  }
  await Deno.writeTextFile(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return { ownerId: state.ownerId, devices: state.devices.slice(0, count) };
}

const drones = Math.floor(option("--drones", "SIMULATE_DRONES", 3));
const hz = option("--hz", "SIMULATE_HZ", 5);
const duration = option("--duration", "SIMULATE_DURATION", Infinity);
const stateIndex = Deno.args.indexOf("--state");
const stateFile = (stateIndex >= 0 ? Deno.args[stateIndex + 1] : undefined) ??
  stackPath("simulator.json");

const mavlinkIndex = Deno.args.indexOf("--mavlink");
if (mavlinkIndex >= 0) {
  await flyOverMavlink(Deno.args[mavlinkIndex + 1] ?? "", { drones, hz, duration, home: HOME });
  Deno.exit(0);
}

let owner: string;
let fleet: SimDevice[];
try {
  ({ ownerId: owner, devices: fleet } = await devices(drones, stateFile));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : error}`);
  console.error("Is the local stack running? Start it with: deno task stack start");
  Deno.exit(1);
}

const started = Date.now();
const flying = fleet.map((device, i) => ({
  device,
  flight: new SimulatedFlight({
    name: device.name,
    home: { ...HOME, lat: HOME.lat + i * 0.002 },
    random: seededRandom(started + i),
    idleSeconds: 3 + i * 2,
  }),
  client: new DeviceClient({
    functionsUrl: FUNCTIONS_URL,
    deviceKey: device.key,
    lingerMs: 1000,
    maxBufferedFrames: 50_000,
  }),
  lastAccepted: 0,
  rate: 0,
}));
for (const drone of flying) drone.client.start();

const tick = setInterval(() => {
  const ts = new Date().toISOString();
  for (const { flight, client } of flying) client.push({ ts, ...flight.step(1 / hz) });
}, 1000 / hz);

const live = Deno.stdout.isTerminal();
let printed = 0;
function report(): void {
  const lines = flying.map(({ device, flight, client, rate }) =>
    `${device.name.padEnd(12)} ${flight.phase.padEnd(8)} flight ${
      String(flight.flightNumber).padStart(3)
    }` +
    `  produced ${String(client.stats.produced).padStart(6)}  stored ${
      String(client.stats.accepted).padStart(6)
    }` +
    `  rejected ${client.stats.rejected}  pending ${client.pending}  failed ${client.stats.failed}` +
    `  ${rate.toFixed(1)} fr/s${
      client.stats.lastError ? `  last error: ${client.stats.lastError}` : ""
    }`
  );
  if (live && printed > 0) Deno.stdout.writeSync(new TextEncoder().encode(`\x1b[${printed}A`));
  for (const line of lines) console.log(live ? `\x1b[2K${line}` : line);
  printed = lines.length;
}
const display = setInterval(() => {
  for (const drone of flying) {
    drone.rate = (drone.client.stats.accepted - drone.lastAccepted) / (live ? 1 : 30);
    drone.lastAccepted = drone.client.stats.accepted;
  }
  report();
}, live ? 1000 : 30_000);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(tick);
  clearInterval(display);
  await Promise.all(flying.map((d) => d.client.close(5_000)));
  const seconds = (Date.now() - started) / 1000;
  console.log(`\nSummary after ${seconds.toFixed(1)} s at ${hz} Hz:`);
  for (const { device, flight, client } of flying) {
    const s = client.stats;
    console.log(
      `${device.name} (device ${device.id}): ${s.produced} produced, ${s.accepted} stored, ` +
        `${s.rejected} rejected, ${s.failed} failed, ${s.dropped} dropped, ${s.requests} requests, ` +
        `${flight.flightNumber} flights`,
    );
  }
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
console.log(`Flying ${drones} drones at ${hz} Hz against ${FUNCTIONS_URL} (Ctrl-C stops)`);
// The ids a reader needs first (the log of the background run is where the README sends them).
console.log(`Owner (user id): ${owner}; a token for it: deno task jwt:mint ${owner}`);
for (const { device } of flying) console.log(`${device.name}: device_id ${device.id}`);
if (Number.isFinite(duration)) setTimeout(stop, duration * 1000);
