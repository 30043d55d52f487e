/**
 * InfluxDB, the benchmark's second baseline (the store a user would pick instead): Debian's
 * `influxd` (1.6, installed by scripts/install.sh), started for the run on a loopback port that
 * moves with STACK_PORT_OFFSET, in a temporary folder with a configuration of its own (the
 * package's defaults, but its folders, ports and no usage reporting), and stopped after. Its CPU
 * is the server process's utime + stime from /proc, as the stack's components' is.
 */
import { join } from "node:path";
import { PORTS } from "../stack/layout.ts";
import { waitFor } from "../stack/processes.ts";
import { pidCpuSeconds } from "./cpu.ts";

export const INFLUXD = "/usr/bin/influxd";
/** The database the benchmark writes into (created at start). */
export const INFLUX_DB = "bench";

export interface InfluxServer {
  readonly url: string;
  readonly pid: number;
  /** Its temporary folder: configuration, data, WAL and log. */
  readonly folder: string;
  /** CPU seconds the server has used so far. */
  cpuSeconds(): number;
  /** A write of line protocol (milliseconds); throws unless InfluxDB answers 204. */
  write(lines: string): Promise<Response>;
  /** An InfluxQL query's JSON answer. */
  query(q: string): Promise<unknown>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** Why the baseline cannot run here, or null when influxd is installed. */
export function influxMissing(): string | null {
  try {
    Deno.statSync(INFLUXD);
    return null;
  } catch {
    return `${INFLUXD} is not installed (scripts/install.sh installs the Debian package influxdb)`;
  }
}

function config(dir: string): string {
  return `reporting-enabled = false
bind-address = "127.0.0.1:${PORTS.influxRpc}"
[meta]
  dir = "${join(dir, "meta")}"
[data]
  dir = "${join(dir, "data")}"
  wal-dir = "${join(dir, "wal")}"
[http]
  bind-address = "127.0.0.1:${PORTS.influx}"
`;
}

/** Starts influxd and creates the benchmark's database. */
export async function startInflux(): Promise<InfluxServer> {
  const dir = await Deno.makeTempDir({ prefix: "bench-influx-" });
  const configPath = join(dir, "influxdb.conf");
  await Deno.writeTextFile(configPath, config(dir));
  const log = await Deno.open(join(dir, "influxd.log"), { write: true, create: true });
  const child = new Deno.Command(INFLUXD, {
    args: ["run", "-config", configPath],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // The log goes to the folder (read when the start fails); not piped to us, it would block.
  const logged = child.stderr.pipeTo(log.writable).catch(() => {});
  const url = `http://127.0.0.1:${PORTS.influx}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await logged;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await waitFor(
      async () => {
        const ping = await fetch(`${url}/ping`).catch(() => null);
        await ping?.body?.cancel();
        return ping?.status === 204;
      },
      20_000,
      "influxd to answer /ping",
    );
  } catch (error) {
    const text = await Deno.readTextFile(join(dir, "influxd.log")).catch(() => "");
    await stop();
    throw new Error(`influxd did not start: ${text.slice(-2000)}`, { cause: error });
  }
  const query = async (q: string) => {
    const response = await fetch(`${url}/query?db=${INFLUX_DB}`, {
      method: "POST",
      body: new URLSearchParams({ q }),
    });
    if (!response.ok) throw new Error(`InfluxDB query failed: ${await response.text()}`);
    return await response.json();
  };
  await query(`CREATE DATABASE ${INFLUX_DB}`);
  return {
    url,
    pid: child.pid,
    folder: dir,
    cpuSeconds: () => pidCpuSeconds(child.pid),
    write: (lines) =>
      fetch(`${url}/write?db=${INFLUX_DB}&precision=ms`, { method: "POST", body: lines }),
    query,
    stop,
  };
}

/** How many points of this measurement field InfluxDB holds. */
export async function countPoints(server: InfluxServer, field = "roll_degrees"): Promise<number> {
  const answer = await server.query(`SELECT count(${field}) FROM telemetry`) as {
    results?: { series?: { values?: [string, number][] }[] }[];
  };
  return answer.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0;
}
