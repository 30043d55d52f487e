// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * deno task device:mavlink --device-key KEY [--url FUNCTIONS_URL] [--listen URL] [--rate HZ]
 *   [--spool DIR] [--system-id N] [--stats-every SECONDS]
 *
 * Bridges a flight controller's MAVLink (v1 and v2) to telemetry-parse as one device: frames at
 * `--rate` Hz (default 10) of vehicle time from the latest value of every mapped field. With
 * `--spool DIR` every frame is on disk before it counts as produced and survives a crash or a
 * reboot (see scripts/device/spool.ts); without it the backlog is kept in memory. Prints a JSON
 * stats line on stdout every `--stats-every` seconds (default 10) and on exit.
 */
import { join } from "node:path";
import { DeviceClient } from "./device/client.ts";
import { Spool } from "./device/spool.ts";
import { MavlinkBridge } from "./mavlink/bridge.ts";
import { openLink, parseLinkAddress } from "./mavlink/links.ts";
import { GATEWAY_URL } from "./stack/layout.ts";

const USAGE = `Usage: deno task device:mavlink --device-key KEY [--url FUNCTIONS_URL]
       [--listen udpserver://HOST:PORT | udp://HOST:PORT | tcp://HOST:PORT] [--rate HZ]
       [--spool DIR] [--system-id N] [--stats-every SECONDS]
Defaults: --url ${GATEWAY_URL}/functions/v1, --listen udpserver://0.0.0.0:14550, --rate 10.`;

function flag(name: string): string | undefined {
  const index = Deno.args.indexOf(name);
  return index >= 0 ? Deno.args[index + 1] : undefined;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  Deno.exit(2);
}

function positive(name: string, fallback: number): number {
  const raw = flag(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    fail(`${name} must be a positive number, got "${raw}"`);
  }
  return value;
}

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(USAGE);
  Deno.exit(0);
}
const deviceKey = flag("--device-key") ?? fail("--device-key is required");
const rate = positive("--rate", 10);
const statsEvery = positive("--stats-every", 10);
const systemIdText = flag("--system-id");
const systemId = systemIdText === undefined ? undefined : Number(systemIdText);
if (systemId !== undefined && !(Number.isInteger(systemId) && systemId >= 1 && systemId <= 255)) {
  fail(`--system-id must be a whole number from 1 to 255, got "${systemIdText}"`);
}
let address;
try {
  address = parseLinkAddress(flag("--listen") ?? "udpserver://0.0.0.0:14550");
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const spoolDir = flag("--spool");
const spool = spoolDir ? new Spool(spoolDir) : undefined;
const flightFile = spoolDir ? join(spoolDir, "flight.json") : undefined;
const flightId = flightFile ? readFlight(flightFile) : null;

function readFlight(file: string): string | null {
  try {
    const value: unknown = JSON.parse(Deno.readTextFileSync(file)).flight_id;
    return typeof value === "string" ? value : null;
  } catch {
    return null;
  }
}

const client = new DeviceClient({
  functionsUrl: flag("--url") ?? `${GATEWAY_URL}/functions/v1`,
  deviceKey,
  lingerMs: 1000,
  // A live device drains its backlog soon after the API is back: at most 5 s between retries.
  maxBackoffMs: 5_000,
  ...(spool ? { spool } : {}),
});
const bridge = new MavlinkBridge({
  client,
  rate,
  ...(systemId !== undefined ? { systemId } : {}),
  flightId,
  onFlight: (id) => {
    if (flightFile) Deno.writeTextFileSync(flightFile, JSON.stringify({ flight_id: id }));
  },
  warn: (message) => console.error(message),
});
const printStats = () =>
  console.log(JSON.stringify({ ...bridge.stats(), recovered: spool?.recovered ?? 0 }));

client.start();
const link = await openLink(
  address,
  (bytes, datagram) => bridge.receive(bytes, datagram),
  (message) => console.error(`link: ${message}`),
).catch((error) => fail(`Cannot open ${flag("--listen") ?? "the link"}: ${error.message}`));
const ticker = setInterval(() => bridge.tick(), 1000 / rate);
const statsTimer = setInterval(printStats, statsEvery * 1000);
console.error(
  `Bridging MAVLink from ${address.kind}://${address.host}:${address.port} at ${rate} Hz` +
    (spool ? ` with the spool in ${spoolDir} (${spool.recovered} frames recovered)` : ""),
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  link.close();
  clearInterval(ticker);
  clearInterval(statsTimer);
  // Sends what it can for up to 10 s; with a spool, the rest stays on disk for the next start.
  await client.close(10_000);
  printStats();
  spool?.close();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
