// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * The benchmark: every scenario against its baseline, alternately, in the same run on the running
 * local stack, and a table of medians, spreads and ratios. Figures, never assertions: the machine
 * is shared. The same figures go to .bench/results.json (git-ignored).
 *
 * Usage: deno task bench [--rounds 3] [--sustain 300]
 *   [--only parse,ingest,cpu,streams,exports,flush,poison,sustained,rss,queries,replica]
 *   [--scenario TEXT] [--path naive,ours,influx,copy] [--streams 16] [--stream-seconds 30]
 *   [--allow-other-traffic]
 * (queries runs scripts/bench_query.ts, which keeps its 1M/10M frames for the next run; its
 * `--clean` deletes them. replica runs on a stack started with STACK_REPLICA=1 and is skipped
 * otherwise: scripts/bench/replica.ts.)
 *
 * Ingest cost is CPU per stored frame per component (Postgres, PostgREST, the gateway, the
 * function, Redis with its REST endpoint), read from /proc, counted until staging has drained
 * into telemetry. Frames per second count the same span. Beside each ingest scenario, in the same
 * rounds: InfluxDB taking the same frames as line protocol at the same concurrency (its server's
 * CPU per point; skipped, saying so, when influxd is not installed) and the physical floor, one
 * COPY of the same typed rows into the same table.
 *
 * Other traffic (simulated drones, other devices) would be counted as the benchmark's: the run
 * refuses to start while it flows (--allow-other-traffic overrides), and names every run it
 * reached.
 *
 * Memory: each function process's peak resident set (VmHWM) is read after every part and started
 * afresh for the next (Linux clear_refs), so each ingest run, the streams and the exports print
 * their own peak, and the end prints the highest of the whole run against the 150 MB cap of the
 * CLI's edge runtime (scripts/stack/memory.ts).
 */
import { parseArgs } from "node:util";
import { createStreamParser } from "../shared/ingest/parser.ts";
import { cpuBetween, type CpuSnapshot, cpuSnapshot } from "./bench/cpu.ts";
import { benchExports, benchRequestCpu, benchStreams } from "./bench/limits.ts";
import { FUNCTION_RSS_LIMIT_MIB, PeakTracker } from "./stack/memory.ts";
import { type Frame, fullFrame, realisticFrame } from "./bench/frames.ts";
import { createNaiveTarget, dropNaiveTarget, NAIVE_REST_PATH } from "./bench/naive_target.ts";
import { copyFloor } from "./bench/copy_floor.ts";
import {
  countPoints,
  influxMissing,
  type InfluxServer,
  startInflux,
} from "./bench/influx_server.ts";
import { lineProtocol } from "./bench/line_protocol.ts";
import {
  type OtherTraffic,
  otherTrafficSince,
  trafficBeforeStart,
  trafficMark,
} from "./bench/other_traffic.ts";
import { median, percentile, spread } from "./bench/stats.ts";
import { loadKeys } from "./stack/keys.ts";
import { GATEWAY_URL, PROJECT_ROOT } from "./stack/layout.ts";
import { parseRetryAfter } from "./device/send.ts";
import * as postgres from "./stack/postgres.ts";
import * as replica from "./stack/replica.ts";
import { benchReplica, type ReplicaBench, replicaReport } from "./bench/replica.ts";

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    sustain: { type: "string", default: "300" },
    only: {
      type: "string",
      default: "parse,ingest,cpu,streams,exports,flush,poison,sustained,rss,queries,replica",
    },
    streams: { type: "string", default: "16" },
    "stream-seconds": { type: "string", default: "30" },
    scenario: { type: "string", default: "" },
    path: { type: "string", default: "naive,ours,influx,copy" },
    "allow-other-traffic": { type: "boolean", default: false },
  },
});
const ROUNDS = Math.max(1, Number(options.rounds));
const SUSTAIN_SECONDS = Number(options.sustain);
const ONLY = new Set(options.only.split(","));
/**
 * Runs only the ingest scenarios whose name holds this text (or one of its "|"-separated parts),
 * and only these paths (profiling).
 */
const SCENARIO_FILTER = options.scenario;
const PATHS = options.path.split(",");

const keys = await loadKeys();
const started = performance.now();
function progress(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  console.error(`[${seconds} s] ${message}`);
}

// ---- setup: one device per request in flight, the naive path's view -------------------------

const MAX_IN_FLIGHT = 64;
const owner = crypto.randomUUID();
await postgres.psql(
  `insert into auth.users (id, email) values ('${owner}', 'bench-${owner}@example.test')`,
);
const devices: { id: string; key: string }[] = JSON.parse(
  (await postgres.psql(`
    set request.jwt.claims = '{"role":"service_role"}';
    select json_agg(row_to_json(d))
    from generate_series(1, ${MAX_IN_FLIGHT}) as i
    cross join lateral public.create_device('bench ' || i, '${owner}') as d;`)).split("\n").at(
    -1,
  ) ??
    "[]",
);
const busy = await trafficBeforeStart(owner);
if (busy !== null) {
  const message = `OTHER TRAFFIC: ${busy}; its CPU would be counted as the benchmark's`;
  if (!options["allow-other-traffic"]) {
    console.error(`${message}. Not starting (--allow-other-traffic runs anyway).`);
    await postgres.psql(`delete from auth.users where id = '${owner}'`);
    Deno.exit(1);
  }
  console.error(`WARNING ${message}.`);
}
await createNaiveTarget();
let influx: InfluxServer | null = null;
const cleanup = async () => {
  await influx?.stop();
  await dropNaiveTarget();
  // The bench owner's devices, frames and rollups go with the user (foreign keys cascade). A
  // flush still rolling up the last frames can deadlock with the cascade (seen twice): again.
  for (let attempt = 1;; attempt++) {
    try {
      await postgres.psql(`delete from auth.users where id = '${owner}'`);
      return;
    } catch (error) {
      if (attempt === 5 || !String(error).includes("deadlock detected")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
};
Deno.addSignalListener("SIGINT", () => cleanup().finally(() => Deno.exit(130)));

// Each run sends frames whose device times no other run uses, so nothing is deduplicated away.
let nextTimeBase = Date.now() - 12 * 3600_000;
function timeRange(frames: number): number {
  const base = nextTimeBase;
  nextTimeBase += frames + 60_000;
  return base;
}

// ---- ingest scenarios ------------------------------------------------------------------------

type Path = "naive" | "ours" | "influx";

interface IngestRun {
  frames: number;
  framesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** CPU µs per stored frame, per component. */
  cpuUsPerFrame: CpuSnapshot;
  /** Postgres + PostgREST; for InfluxDB, its server's CPU per point. */
  dbUsPerFrame: number;
  /** telemetry-parse's peak resident set during the run, MiB. */
  peakRssMib: number;
}

/** Every function's peak over the whole run; each part reads and restarts it. */
const peaks = new PeakTracker();

/** How telemetry-parse gets the frames: NDJSON, or key:value lines (what fits 10,000 in 5 MiB). */
type BodyFormat = "ndjson" | "kv";

function body(path: Path, device: string, frames: Frame[], format: BodyFormat = "ndjson"): string {
  if (path === "influx") return lineProtocol(device, frames);
  if (path === "naive") {
    return JSON.stringify(frames.map((frame) => ({ ...frame, device_id: device })));
  }
  return format === "kv"
    ? frames.map((frame) => Object.entries(frame).map(([k, v]) => `${k}:${v}`).join(",")).join(
      "\n",
    )
    : frames.map((frame) => JSON.stringify(frame)).join("\n");
}

function send(
  path: Path,
  device: { id: string; key: string },
  text: string,
  format: BodyFormat = "ndjson",
): Promise<Response> {
  if (path === "influx") return (influx as InfluxServer).write(text);
  return path === "naive"
    ? fetch(`${GATEWAY_URL}${NAIVE_REST_PATH}`, {
      method: "POST",
      headers: {
        apikey: keys.secretKey,
        "content-type": "application/json",
        prefer: "return=minimal",
      },
      body: text,
    })
    : fetch(`${GATEWAY_URL}/functions/v1/telemetry-parse`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${device.key}`,
        "content-type": format === "kv" ? "text/plain" : "application/x-ndjson",
      },
      body: text,
    });
}

/** Requests sent again after a 503 or a dropped connection in this run (printed at the end). */
let resent = 0;

/**
 * Sends as a device client does: after a 503 (the function at its admission budget) it waits the
 * Retry-After and sends again, and so after a connection the server closed on an upload it had
 * refused before reading it. Otherwise a refused body counted as frames stored, and one reset
 * connection ended the whole run. Gives up (null or the last answer) after 30 tries.
 */
async function sendUntilAdmitted(sendOnce: () => Promise<Response>): Promise<Response | null> {
  for (let attempt = 1;; attempt++) {
    let response: Response | null = null;
    try {
      response = await sendOnce();
    } catch {
      // A dropped connection: sent again below, as after a 503.
    }
    if (response !== null && response.status !== 503) return response;
    if (attempt === 30) return response;
    const waitSeconds = parseRetryAfter(response?.headers.get("retry-after") ?? null) ?? 1;
    await response?.body?.cancel();
    resent++;
    await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
  }
}

/** Flushes until staging is empty (pg_cron's flush may be doing it: then waits for it). */
async function drainStaging(): Promise<void> {
  for (;;) {
    const run = JSON.parse(await postgres.psql("select public.flush_telemetry()"));
    if (run.pending_records === 0 && !run.skipped) return;
    if (run.skipped) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ingestRun(
  path: Path,
  makeFrame: (index: number, recordedAt: string) => Frame,
  framesPerRequest: number,
  inFlight: number,
  totalFrames: number,
  format: BodyFormat,
): Promise<IngestRun> {
  const requests = Math.ceil(totalFrames / framesPerRequest);
  const base = timeRange(totalFrames);
  // Bodies are built before the clock starts: the client's own work is not what is measured.
  const bodies = Array.from({ length: requests }, (_, r) => {
    const device = devices[r % inFlight] as { id: string; key: string };
    const frames = Array.from({ length: framesPerRequest }, (_, i) => {
      const index = r * framesPerRequest + i;
      return makeFrame(index, new Date(base + index).toISOString());
    });
    return { device, text: body(path, device.id, frames, format) };
  });
  await drainStaging();
  await peaks.segment();
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const mark = await trafficMark();
  const before = cpuSnapshot();
  const influxBefore = influx?.cpuSeconds() ?? 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < requests) {
      const { device, text } = bodies[next++] as {
        device: { id: string; key: string };
        text: string;
      };
      const sent = performance.now();
      const response = await sendUntilAdmitted(() => send(path, device, text, format));
      await response?.body?.cancel();
      latencies.push(performance.now() - sent);
      if (!response?.ok) failures++;
    }
  }));
  if (path === "ours") await drainStaging();
  const seconds = (performance.now() - t0) / 1000;
  const used = cpuBetween(before, cpuSnapshot());
  const influxUsed = (influx?.cpuSeconds() ?? 0) - influxBefore;
  const frames = requests * framesPerRequest;
  const perFrame = {} as CpuSnapshot;
  for (const [name, value] of Object.entries(used)) {
    perFrame[name as keyof CpuSnapshot] = (value / frames) * 1e6;
  }
  noteOtherTraffic(path, await otherTrafficSince(owner, mark));
  return {
    frames,
    framesPerSecond: frames / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failures,
    cpuUsPerFrame: perFrame,
    dbUsPerFrame: path === "influx"
      ? influxUsed / frames * 1e6
      : perFrame.postgres + perFrame.postgrest,
    peakRssMib: (await peaks.segment()).get("telemetry-parse") ?? NaN,
  };
}

/** Runs that other traffic reached, named again under the report. */
const trafficWarnings: string[] = [];
function noteOtherTraffic(run: string, other: OtherTraffic): void {
  if (other.requests === 0) return;
  const warning = `OTHER TRAFFIC during ${run}: ${other.requests} requests, ${other.frames} ` +
    "frames of devices not under bench; its CPU figures are inflated";
  console.error(`WARNING ${warning}`);
  trafficWarnings.push(warning);
}

/** The same frames as an ingest run sends, for the COPY floor: Postgres µs per frame. */
async function copyFloorRun(
  makeFrame: (index: number, recordedAt: string) => Frame,
  framesPerRequest: number,
  inFlight: number,
  totalFrames: number,
): Promise<number> {
  const frames = Math.min(totalFrames, 100_000);
  const base = timeRange(frames);
  const rows = Array.from({ length: frames }, (_, index) => ({
    deviceId: (devices[Math.floor(index / framesPerRequest) % inFlight] as { id: string }).id,
    frame: makeFrame(index, new Date(base + index).toISOString()),
  }));
  await drainStaging();
  const mark = await trafficMark();
  const cpu = await copyFloor(rows);
  noteOtherTraffic("COPY floor", await otherTrafficSince(owner, mark));
  return cpu / frames * 1e6;
}

interface IngestScenario {
  name: string;
  makeFrame: (index: number, recordedAt: string) => Frame;
  framesPerRequest: number;
  inFlight: number;
  totalFrames: number;
  format?: BodyFormat;
}

// At least 10,000 requests where p99 matters: each run starts with one cold request per device (its
// key looked up, not yet cached), and with fewer requests those 64 would be the whole 1% tail.
const ALL_INGEST_SCENARIOS: IngestScenario[] = [
  {
    name: "25 fields, 1 frame/request",
    makeFrame: realisticFrame,
    framesPerRequest: 1,
    inFlight: 64,
    totalFrames: 10_000,
  },
  {
    name: "25 fields, 10 frames/request",
    makeFrame: realisticFrame,
    framesPerRequest: 10,
    inFlight: 64,
    totalFrames: 100_000,
  },
  {
    name: "25 fields, 500 frames/request",
    makeFrame: realisticFrame,
    framesPerRequest: 500,
    inFlight: 8,
    totalFrames: 100_000,
  },
  {
    name: "80 fields, 500 frames/request",
    makeFrame: fullFrame,
    framesPerRequest: 500,
    inFlight: 8,
    totalFrames: 50_000,
  },
  {
    // The largest body a device may send: 10,000 lines (TELEMETRY_MAX_LINES) in 4.8 MiB of
    // key:value text, under the 5 MiB TELEMETRY_MAX_BODY_BYTES.
    name: "25 fields, 10,000 frames/request (4.8 MiB)",
    makeFrame: realisticFrame,
    framesPerRequest: 10_000,
    inFlight: 8,
    totalFrames: 160_000,
    format: "kv",
  },
];

// "|" separates alternatives: --scenario "1 frame/|10 frames/|25 fields, 500" runs three.
const INGEST_SCENARIOS = ALL_INGEST_SCENARIOS.filter((s) =>
  SCENARIO_FILTER.split("|").some((part) => s.name.includes(part))
);

interface Figure {
  scenario: string;
  metric: string;
  baseline: string;
  baselineValues: number[];
  oursValues: number[];
}

const figures: Figure[] = [];
function figure(
  scenario: string,
  metric: string,
  baseline: string,
  base: number[],
  ours: number[],
) {
  figures.push({ scenario, metric, baseline, baselineValues: base, oursValues: ours });
}

/**
 * Every point InfluxDB acknowledged is stored: checked after each run, outside its CPU (until a
 * write fails: a failed write may have stored part of its points).
 */
let influxPointsSent: number | null = 0;
async function checkInfluxPoints(run: IngestRun): Promise<void> {
  if (!influx || influxPointsSent === null) return;
  if (run.failures > 0) {
    influxPointsSent = null;
    return;
  }
  influxPointsSent += run.frames;
  const stored = await countPoints(influx);
  if (stored !== influxPointsSent) {
    throw new Error(`InfluxDB holds ${stored} points, ${influxPointsSent} were written`);
  }
}

async function benchIngest(): Promise<void> {
  const runs = new Map<string, { naive: IngestRun[]; ours: IngestRun[]; influx: IngestRun[] }>();
  const floors = new Map<string, number[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of INGEST_SCENARIOS) {
      // Alternate which path goes first, so drift over the run does not favour one.
      const order: Path[] = round % 2 === 1
        ? ["naive", "ours", "influx"]
        : ["influx", "ours", "naive"];
      const paths = order.filter((p) => PATHS.includes(p) && (p !== "influx" || influx));
      if (PATHS.includes("copy")) {
        progress(`round ${round}/${ROUNDS}: ${scenario.name}, COPY floor`);
        floors.set(scenario.name, [
          ...floors.get(scenario.name) ?? [],
          await copyFloorRun(
            scenario.makeFrame,
            scenario.framesPerRequest,
            scenario.inFlight,
            scenario.totalFrames,
          ),
        ]);
      }
      for (const path of paths) {
        progress(`round ${round}/${ROUNDS}: ${scenario.name}, ${path}`);
        const run = await ingestRun(
          path,
          scenario.makeFrame,
          scenario.framesPerRequest,
          scenario.inFlight,
          scenario.totalFrames,
          scenario.format ?? "ndjson",
        );
        const entry = runs.get(scenario.name) ?? { naive: [], ours: [], influx: [] };
        entry[path].push(run);
        runs.set(scenario.name, entry);
        if (path === "influx") await checkInfluxPoints(run);
      }
    }
  }
  for (const scenario of INGEST_SCENARIOS) {
    const { naive, ours, influx: influxRuns } = runs.get(scenario.name) ??
      { naive: [], ours: [], influx: [] };
    const name = `ingest ${scenario.name}, ${scenario.inFlight} in flight`;
    const of = (list: IngestRun[], pick: (run: IngestRun) => number) => list.map(pick);
    figure(
      name,
      "frames/s",
      "naive",
      of(naive, (r) => r.framesPerSecond),
      of(ours, (r) => r.framesPerSecond),
    );
    figure(name, "p50 ms", "naive", of(naive, (r) => r.p50Ms), of(ours, (r) => r.p50Ms));
    figure(name, "p99 ms", "naive", of(naive, (r) => r.p99Ms), of(ours, (r) => r.p99Ms));
    // The naive path does not run telemetry-parse: its column is the idle process.
    figure(
      name,
      "telemetry-parse peak RSS MiB",
      "naive",
      of(naive, (r) => r.peakRssMib),
      of(ours, (r) => r.peakRssMib),
    );
    figure(
      name,
      "DB µs/frame (PG+PostgREST)",
      "naive",
      of(naive, (r) => r.dbUsPerFrame),
      of(ours, (r) => r.dbUsPerFrame),
    );
    if (influxRuns.length > 0) {
      figure(
        name,
        "DB µs/frame vs InfluxDB µs/pt",
        "InfluxDB",
        of(influxRuns, (r) => r.dbUsPerFrame),
        of(ours, (r) => r.dbUsPerFrame),
      );
      figure(
        name,
        "frames/s vs InfluxDB points/s",
        "InfluxDB",
        of(influxRuns, (r) => r.framesPerSecond),
        of(ours, (r) => r.framesPerSecond),
      );
    }
    const floor = floors.get(scenario.name) ?? [];
    if (floor.length > 0) {
      figure(name, "DB µs/frame vs COPY floor", "COPY", floor, of(ours, (r) => r.dbUsPerFrame));
      figure(name, "naive µs/frame vs COPY floor", "COPY", floor, of(naive, (r) => r.dbUsPerFrame));
    }
    for (const component of ["postgres", "postgrest", "gateway", "function", "redis"] as const) {
      figure(
        name,
        `  ${component} µs/frame`,
        "naive",
        of(naive, (r) => r.cpuUsPerFrame[component]),
        of(ours, (r) => r.cpuUsPerFrame[component]),
      );
    }
    const failed = [...naive, ...ours, ...influxRuns].reduce((sum, run) => sum + run.failures, 0);
    if (failed > 0) console.error(`warning: ${name}: ${failed} requests failed`);
  }
}

/** InfluxDB for the run, or null (said loudly) when it is not wanted or cannot start here. */
async function startInfluxBaseline(): Promise<InfluxServer | null> {
  if (!PATHS.includes("influx")) return null;
  const missing = influxMissing();
  if (missing !== null) {
    console.error(`WARNING: no InfluxDB baseline in this run: ${missing}`);
    return null;
  }
  try {
    const server = await startInflux();
    progress(`InfluxDB baseline: influxd pid ${server.pid} on ${server.url}`);
    return server;
  } catch (error) {
    console.error(`WARNING: no InfluxDB baseline in this run: ${error}`);
    return null;
  }
}

// ---- parse + validate alone, on one core -----------------------------------------------------

function benchParse(): void {
  const base = Date.now() - 3600_000;
  const lines = Array.from(
    { length: 10_000 },
    (_, i) => JSON.stringify(realisticFrame(i, new Date(base + i).toISOString())),
  );
  const text = lines.join("\n");
  const fieldsPerFrame = Object.keys(realisticFrame(0, "")).length;
  const ours: number[] = [];
  const baseline: number[] = [];
  for (let round = 1; round <= ROUNDS + 2; round++) {
    progress(`round ${round}: parse + validate 10,000 frames`);
    let t0 = performance.now();
    const parser = createStreamParser({ receivedAt: new Date() });
    const parsed = parser.push(text).frames.length + parser.end().frames.length;
    const parseSeconds = (performance.now() - t0) / 1000;
    if (parsed !== lines.length) throw new Error("the parser refused benchmark frames");
    t0 = performance.now();
    for (const line of lines) JSON.parse(line);
    const jsonSeconds = (performance.now() - t0) / 1000;
    if (round > 2) { // two warm-up rounds for the JIT
      ours.push((lines.length * fieldsPerFrame) / parseSeconds);
      baseline.push((lines.length * fieldsPerFrame) / jsonSeconds);
    }
  }
  figure(
    "parse + validate, 25-field NDJSON, one core",
    "fields/s",
    "JSON.parse only",
    baseline,
    ours,
  );
}

// ---- flush alone against a plain INSERT ... SELECT of the same rows ---------------------------

async function postgresCpu<T>(work: () => Promise<T>): Promise<number> {
  const before = cpuSnapshot();
  await work();
  // The backend psql used may still be exiting: its CPU counts once the postmaster has reaped
  // it (measured: without the pause, some flushes read a fraction of their CPU).
  await new Promise((resolve) => setTimeout(resolve, 200));
  return cpuBetween(before, cpuSnapshot()).postgres;
}

/**
 * Runs `work` with pg_cron's flush job paused (and its running loop ended: a flush is atomic, so
 * ending it loses nothing), so that no other flush moves the rows being measured.
 */
async function withScheduledFlushPaused<T>(work: () => Promise<T>): Promise<T> {
  const job = "(select j.jobid from cron.job as j where j.jobname = 'telemetry-flush')";
  await postgres.psql(`
    select cron.alter_job(${job}, active := false);
    select pg_terminate_backend(a.pid) from pg_stat_activity as a
    where a.query like '%flush_for%' and a.pid <> pg_backend_pid();`);
  try {
    return await work();
  } finally {
    await postgres.psql(`select cron.alter_job(${job}, active := true)`);
  }
}

async function benchFlush(): Promise<void> {
  const frames = 100_000;
  const ours: number[] = [];
  const baseline: number[] = [];
  // A schema PostgREST does not expose, readable by no API role.
  await postgres.psql(`
    drop schema if exists bench_private cascade;
    create schema bench_private;
    revoke all on schema bench_private from public, anon, authenticated, service_role;`);
  for (let round = 1; round <= ROUNDS; round++) {
    const device = (devices[round % devices.length] as { id: string }).id;
    for (const which of round % 2 === 1 ? ["baseline", "ours"] : ["ours", "baseline"]) {
      progress(`round ${round}/${ROUNDS}: flush ${frames} frames, ${which}`);
      const start = new Date(timeRange(frames)).toISOString();
      // The same 25-field rows, typed, in a table without indexes.
      await postgres.psql(`
        drop table if exists bench_private.rows;
        create unlogged table bench_private.rows as
        select '${device}'::uuid as device_id, now() as created_at,
               '${start}'::timestamptz + make_interval(secs => i / 1000.0) as recorded_at,
               'AUTO'::text as flight_mode, true as armed, (i % 20)::real as roll_degrees,
               (i % 10)::real as pitch_degrees, (i % 360)::real as yaw_degrees,
               (i % 360)::real as heading_degrees, 1.5::real as roll_rate_dps,
               0.5::real as pitch_rate_dps, 0.7::real as yaw_rate_dps, 3::smallint as gps_fix_type,
               (9 + i % 5)::smallint as gps_satellites, 47.39 + i * 1e-7 as gps_latitude,
               8.54 + i * 1e-7 as gps_longitude, 480::real as gps_altitude_m,
               6.1::real as gps_speed_ms, (60 + i % 5)::real as altitude_m,
               16.2::real as battery_voltage_v, 18.5::real as battery_current_a,
               (100 - i % 100)::real as battery_remaining_percent, 1500 + i % 50 as motor1_pwm,
               1510 + i % 40 as motor2_pwm, 1490 + i % 30 as motor3_pwm, 1505 + i % 20 as motor4_pwm,
               i / 500 as request
        from generate_series(0, ${frames - 1}) as i;`);
      if (which === "baseline") {
        baseline.push(
          (await postgresCpu(() =>
            postgres.psql(`
            insert into telemetry.telemetry (device_id, created_at, recorded_at, flight_mode, armed,
              roll_degrees, pitch_degrees, yaw_degrees, heading_degrees, roll_rate_dps,
              pitch_rate_dps, yaw_rate_dps, gps_fix_type, gps_satellites, gps_latitude,
              gps_longitude, gps_altitude_m, gps_speed_ms, altitude_m, battery_voltage_v,
              battery_current_a, battery_remaining_percent, motor1_pwm, motor2_pwm, motor3_pwm,
              motor4_pwm)
            select device_id, created_at, recorded_at, flight_mode, armed, roll_degrees,
              pitch_degrees, yaw_degrees, heading_degrees, roll_rate_dps, pitch_rate_dps,
              yaw_rate_dps, gps_fix_type, gps_satellites, gps_latitude, gps_longitude,
              gps_altitude_m, gps_speed_ms, altitude_m, battery_voltage_v, battery_current_a,
              battery_remaining_percent, motor1_pwm, motor2_pwm, motor3_pwm, motor4_pwm
            from bench_private.rows;`)
          )) / frames * 1e6,
        );
      } else {
        // Staged as telemetry-parse stages them: one row per 500-frame request, frames as text.
        await drainStaging();
        await postgres.psql(`
          insert into telemetry.telemetry_staging (device_id, created_at, frame_count, frames)
          select min(r.device_id::text)::uuid, min(r.created_at), count(*),
                 array_agg(jsonb_populate_record(null::telemetry.frame_values, to_jsonb(r))
                   order by r.recorded_at)::text
          from bench_private.rows as r
          group by r.request
          order by r.request;`);
        let run: { rows_moved?: number } = {};
        const cpu = await postgresCpu(async () => {
          run = JSON.parse(await postgres.psql("select public.flush_telemetry()"));
        });
        if (run.rows_moved !== frames) {
          throw new Error(`the flush moved ${run.rows_moved} of ${frames} frames`);
        }
        ours.push(cpu / frames * 1e6);
      }
    }
  }
  await postgres.psql("drop schema bench_private cascade");
  figure(
    "flush 100,000 staged 25-field frames",
    "Postgres µs/frame",
    "INSERT … SELECT",
    baseline,
    ours,
  );
}

// ---- a poison request among many small ones, against the same requests without it ----------

/**
 * 1,000 staged requests of 5 frames, one of them (the 500th) holding a value the cast to real
 * refuses (as an older parser staged it): the flush bisects to set it aside. Baseline: the same
 * requests without the poison, flushed in the same round. Before the bisection, the poison run
 * took 64 s and 16 s of Postgres CPU here (one request at a time, each attempt redoing the chunk).
 */
async function benchPoison(): Promise<void> {
  const requests = 1000;
  const perRequest = 5;
  const clean: number[] = [];
  const poisoned: number[] = [];
  const attempts: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const device = (devices[round % devices.length] as { id: string }).id;
    for (const which of round % 2 === 1 ? ["clean", "poisoned"] : ["poisoned", "clean"]) {
      progress(`round ${round}/${ROUNDS}: flush ${requests} requests of ${perRequest}, ${which}`);
      await drainStaging();
      const start = new Date(timeRange(requests * perRequest)).toISOString();
      await postgres.psql(`
        insert into telemetry.telemetry_staging (device_id, frame_count, frames)
        select '${device}'::uuid, count(*),
               array_agg(jsonb_populate_record(null::telemetry.frame_values, jsonb_build_object(
                 'recorded_at', '${start}'::timestamptz + make_interval(secs => i / 1000.0),
                 'roll_degrees', i % 20, 'altitude_m', 60)) order by i)::text
        from generate_series(0, ${requests * perRequest - 1}) as i
        group by i / ${perRequest}
        order by i / ${perRequest};`);
      if (which === "poisoned") {
        await postgres.psql(`
          update telemetry.telemetry_staging set frames = replace(frames, ',60,', ',1e-50,')
          where id = (select s.id from telemetry.telemetry_staging as s
                      order by s.id offset ${requests / 2 - 1} limit 1);`);
      }
      let run: { rows_moved?: number; attempts?: number } = {};
      const cpu = await postgresCpu(async () => {
        run = JSON.parse(await postgres.psql("select public.flush_telemetry()"));
      });
      const expected = requests * perRequest - (which === "poisoned" ? perRequest : 0);
      if (run.rows_moved !== expected) {
        throw new Error(`the flush moved ${run.rows_moved} of ${expected} frames`);
      }
      (which === "clean" ? clean : poisoned).push(cpu * 1000);
      if (which === "poisoned") attempts.push(run.attempts ?? 0);
    }
  }
  figure(
    "flush 1,000 requests of 5 frames, one poison",
    "Postgres ms per flush",
    "no poison",
    clean,
    poisoned,
  );
  progress(`move statements to set the poison aside: ${attempts.join(", ")}`);
}

// ---- sustained ingest ------------------------------------------------------------------------

async function benchSustained(): Promise<void> {
  const framesPerRequest = 500;
  const inFlight = 8;
  const base = timeRange(50_000_000);
  const samples: { second: number; pending: number; oldestAgeSeconds: number }[] = [];
  let frames = 0;
  let failures = 0;
  let stop = false;
  const t0 = performance.now();
  const before = cpuSnapshot();
  const sampler = (async () => {
    while (!stop) {
      const status = JSON.parse(await postgres.psql("select public.get_batch_status()"));
      const second = Math.round((performance.now() - t0) / 1000);
      samples.push({
        second,
        pending: status.pending_records,
        oldestAgeSeconds: Number(status.oldest_pending_age_seconds ?? 0),
      });
      progress(
        `sustained ${second}/${SUSTAIN_SECONDS} s: ${frames} frames, staging backlog ${status.pending_records}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  })();
  await Promise.all(Array.from({ length: inFlight }, async (_, worker) => {
    for (let r = worker; performance.now() - t0 < SUSTAIN_SECONDS * 1000; r += inFlight) {
      // Requests go round all the bench's devices: 8 devices at this rate passed a device's frame
      // quota (2,000 frames/s over a minute), and the 429s were counted as failures.
      const device = devices[r % devices.length] as { id: string; key: string };
      const batch = Array.from({ length: framesPerRequest }, (_, i) => {
        const index = r * framesPerRequest + i;
        return realisticFrame(index, new Date(base + index).toISOString());
      });
      const response = await send("ours", device, body("ours", device.id, batch));
      await response.body?.cancel();
      if (response.ok) frames += framesPerRequest;
      else failures++;
    }
  }));
  stop = true;
  await sampler;
  const loadSeconds = (performance.now() - t0) / 1000;
  await drainStaging();
  const used = cpuBetween(before, cpuSnapshot());
  const maxPending = Math.max(...samples.map((s) => s.pending));
  const lastThird = samples.slice(Math.floor(samples.length * 2 / 3));
  console.log(
    `\nsustained ingest, ${SUSTAIN_SECONDS} s, 500-frame requests, ${inFlight} in flight:`,
  );
  console.log(
    `  ${Math.round(frames / loadSeconds)} frames/s acknowledged, ${failures} failed requests`,
  );
  console.log(`  staging backlog (frames) every 5 s: ${samples.map((s) => s.pending).join(" ")}`);
  console.log(
    `  max backlog ${maxPending}; max in the last third ${
      Math.max(...lastThird.map((s) => s.pending))
    }`,
  );
  console.log(
    `  oldest pending age max ${Math.max(...samples.map((s) => s.oldestAgeSeconds)).toFixed(1)} s`,
  );
  console.log(
    `  DB µs/frame (PG+PostgREST) ${((used.postgres + used.postgrest) / frames * 1e6).toFixed(1)}`,
  );
  sustained = { seconds: SUSTAIN_SECONDS, frames, failures, samples, cpuSeconds: used };
}
let sustained: unknown = null;
let requestCpu: unknown = null;
let streams: { peakRssMib: number } | null = null;
let exportsRun: { peakRssMib: number } | null = null;
let replicaRun: ReplicaBench | null = null;
/** Frames per ingest run of the replica part (8 × 500-frame requests). */
const REPLICA_FRAMES = 50_000;
const STREAMS = Number(options.streams);
const STREAM_SECONDS = Number(options["stream-seconds"]);

// ---- report ----------------------------------------------------------------------------------

function fmt(value: number): string {
  if (!Number.isFinite(value)) return "-";
  if (Math.abs(value) >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(value >= 100 ? 0 : 1);
}

function report(): void {
  console.log(
    `\nbench: ${ROUNDS} rounds, median (spread = (max-min)/median); ratio = ours / baseline`,
  );
  console.log(
    "scenario".padEnd(52) + "metric".padEnd(31) + "baseline".padStart(18) +
      "ours".padStart(18) + "ratio".padStart(8),
  );
  let last = "";
  for (const f of figures) {
    const b = median(f.baselineValues);
    const o = median(f.oursValues);
    const cell = (m: number, values: number[]) => `${fmt(m)} ±${Math.round(spread(values) * 100)}%`;
    console.log(
      (f.scenario === last ? "" : f.scenario).padEnd(52) + f.metric.padEnd(31) +
        cell(b, f.baselineValues).padStart(18) + cell(o, f.oursValues).padStart(18) +
        (b > 0 ? (o / b).toFixed(2) : "-").padStart(8),
    );
    last = f.scenario;
  }
  console.log(
    "(baselines: ingest = naive PostgREST insert into telemetry through the gateway; InfluxDB = " +
      "its server's CPU per point and points/s, the same frames as line protocol at the same " +
      "concurrency; COPY = one COPY of the same typed rows into telemetry, Postgres CPU)",
  );
  for (const warning of trafficWarnings) console.log(`WARNING ${warning}`);
}

try {
  await peaks.segment();
  if (ONLY.has("parse")) benchParse();
  if (ONLY.has("ingest")) {
    influx = await startInfluxBaseline();
    await benchIngest();
    await influx?.stop();
    influx = null;
  }
  if (ONLY.has("flush")) await withScheduledFlushPaused(benchFlush);
  if (ONLY.has("poison")) await withScheduledFlushPaused(benchPoison);
  report();
  if (ONLY.has("sustained") && SUSTAIN_SECONDS > 0) await benchSustained();
  if (ONLY.has("cpu")) requestCpu = await benchRequestCpu(devices, timeRange, progress);
  if (ONLY.has("streams")) {
    await peaks.segment();
    streams = await benchStreams(devices, STREAMS, STREAM_SECONDS, timeRange, progress);
    streams.peakRssMib = (await peaks.segment()).get("telemetry-parse") ?? NaN;
    console.log(`  telemetry-parse peak RSS ${streams.peakRssMib} MiB`);
  }
  if (ONLY.has("exports")) {
    await peaks.segment();
    exportsRun = await benchExports(owner, devices, timeRange, progress);
    exportsRun.peakRssMib = (await peaks.segment()).get("telemetry-query") ?? NaN;
    console.log(`  telemetry-query peak RSS ${exportsRun.peakRssMib} MiB`);
  }
  if (ONLY.has("replica")) {
    if (await replica.isRunning()) {
      replicaRun = await benchReplica(keys, devices, ROUNDS, REPLICA_FRAMES, timeRange, progress);
      for (const line of replicaReport(replicaRun)) console.log(line);
    } else {
      console.log("\nread replica: skipped (start the stack with STACK_REPLICA=1)");
    }
  }
  await peaks.observe();
  const rss = Object.fromEntries(peaks.highest);
  if (ONLY.has("rss")) {
    console.log(
      `\npeak RSS (VmHWM) of each function process over this run, MiB (cap ${FUNCTION_RSS_LIMIT_MIB}):`,
    );
    for (const [name, mib] of Object.entries(rss)) {
      console.log(
        `  ${name.padEnd(26)} ${String(mib).padStart(4)}${
          mib > FUNCTION_RSS_LIMIT_MIB ? "  OVER" : ""
        }`,
      );
    }
  }
  if (ONLY.has("queries")) {
    progress("queries at 1M and 10M frames (scripts/bench_query.ts)");
    const queries = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        `${PROJECT_ROOT}/scripts/bench_query.ts`,
        "--rounds",
        String(ROUNDS),
      ],
      stdout: "inherit",
      stderr: "inherit",
    });
    if (!(await queries.output()).success) console.error("warning: the query benchmark failed");
  }
  await Deno.mkdir(`${PROJECT_ROOT}/.bench`, { recursive: true });
  await Deno.writeTextFile(
    `${PROJECT_ROOT}/.bench/results.json`,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        rounds: ROUNDS,
        figures,
        sustained,
        rss,
        requestCpu,
        streams,
        exports: exportsRun,
        replica: replicaRun,
        otherTraffic: trafficWarnings,
      },
      null,
      2,
    ),
  );
  if (resent > 0) {
    console.log(`\n${resent} ingest requests were sent again after a 503 or a dropped connection`);
  }
  console.log("\nfigures written to .bench/results.json");
} finally {
  await cleanup();
}
