/**
 * `deno task bench --only replica` (stack started with STACK_REPLICA=1): where the read work
 * lands. Here the primary and the replica share the same 2 cores, so the claim measured is not
 * more throughput but that reads leave the primary:
 * - ingest alone, 8 in flight × 500-frame requests, against the same ingest under a storm of
 *   operator reads (pages, rollups, flights, each with parameters no other used, so none comes
 *   from the cache), alternately for each round: frames/s and the primary's CPU per frame
 *   (Postgres + PostgREST), and the page/rollup/flight reads each server's pg_stat_statements
 *   counted meanwhile (the primary's must stay 0);
 * - the replica's replay lag, sampled every 100 ms through its endpoint during both: p50 and max;
 * - the storm alone: reads/s and the replica's CPU per read (its Postgres + PostgREST), the
 *   figure behind "reads per replica core" in README's capacity model.
 */
import { cpuBetween, cpuSnapshot, replicaCpuSeconds } from "./cpu.ts";
import { type Frame, realisticFrame } from "./frames.ts";
import { median, percentile } from "./stats.ts";
import type { StackKeys } from "../stack/keys.ts";
import { GATEWAY_URL, PORTS, REPLICA_API_URL } from "../stack/layout.ts";
import * as postgres from "../stack/postgres.ts";
import { countReadStatements, REPLICATION_SLOT } from "../stack/replica.ts";

const FRAMES_PER_REQUEST = 500;
const IN_FLIGHT = 8;
const READERS = 6;
const STORM_ALONE_MS = 10_000;

export interface ReplicaBench {
  rounds: Array<{
    alone: IngestFigures;
    storm: IngestFigures;
  }>;
  stormAlone: { readsPerSecond: number; replicaUsPerRead: number; failures: number };
}

interface IngestFigures {
  framesPerSecond: number;
  /** Primary Postgres + PostgREST CPU per stored frame, µs. */
  primaryDbUsPerFrame: number;
  failures: number;
  /** Page, rollup and flight reads run on each server meanwhile. */
  primaryReads: number;
  replicaReads: number;
  /** Reads the storm got answered (0 for ingest alone), and how many failed. */
  stormReads: number;
  stormFailures: number;
  /** pg_stat_replication.replay_lag on the primary, p50 and max. */
  lagP50Ms: number;
  lagMaxMs: number;
  /** The standby's own lag figure (what the functions judge by), max. */
  standbyLagMaxMs: number;
}

type Device = { id: string; key: string };

/**
 * Samples the replay lag every 100 ms until stopped, two ways: the primary's
 * pg_stat_replication.replay_lag (from a WAL flush on the primary to the standby's report that it
 * replayed it; null, counted 0, once it has caught up and nothing is new) and the standby's own
 * figure, which the functions judge by (public.get_replica_status, through its endpoint).
 */
function sampleLag(keys: StackKeys) {
  const primary: number[] = [];
  const standby: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const [replayLag, response] = await Promise.all([
          postgres.psql(
            "select coalesce(extract(epoch from replay_lag) * 1000, 0) from pg_stat_replication " +
              `where application_name = '${REPLICATION_SLOT}'`,
          ),
          fetch(`${REPLICA_API_URL}/rest/v1/rpc/get_replica_status`, {
            headers: { apikey: keys.secretKey },
          }),
        ]);
        const status = await response.json();
        if (replayLag !== "") primary.push(Number(replayLag));
        if (typeof status.lag_seconds === "number") standby.push(status.lag_seconds * 1000);
      } catch {
        // a sample lost: the others stand
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { primary, standby };
  };
}

/** Operator reads as service role (no per-user quota) by READERS clients until stopped. */
function storm(keys: StackKeys, devices: Device[]) {
  let running = true;
  let answered = 0;
  let failures = 0;
  let n = 0;
  const headers = { authorization: `Bearer ${keys.serviceRoleKey}` };
  const reader = async () => {
    while (running) {
      const device = devices[n % devices.length]!;
      const to = new Date(Date.now() + 86_400_000 + n).toISOString();
      const kind = n++ % 3;
      const url = kind === 0
        ? `telemetry-query?device_id=${device.id}&limit=100&to=${to}`
        : kind === 1
        ? `telemetry-analytics?device_id=${device.id}&to=${to}`
        : `telemetry-analytics/flights?device_id=${device.id}&limit=${1 + (n % 100)}`;
      try {
        const response = await fetch(`${GATEWAY_URL}/functions/v1/${url}`, { headers });
        await response.body?.cancel();
        if (response.ok) answered++;
        else failures++;
      } catch {
        failures++;
      }
    }
  };
  const loops = Array.from({ length: READERS }, reader);
  return async () => {
    running = false;
    await Promise.all(loops);
    return { answered, failures };
  };
}

async function drainStaging(): Promise<void> {
  for (;;) {
    const run = JSON.parse(await postgres.psql("select public.flush_telemetry()"));
    if (run.pending_records === 0 && !run.skipped) return;
    if (run.skipped) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ingest(
  keys: StackKeys,
  devices: Device[],
  totalFrames: number,
  timeBase: number,
  withStorm: boolean,
): Promise<IngestFigures> {
  const requests = Math.ceil(totalFrames / FRAMES_PER_REQUEST);
  const bodies = Array.from({ length: requests }, (_, r) => {
    const device = devices[r % IN_FLIGHT]!;
    const frames: Frame[] = Array.from({ length: FRAMES_PER_REQUEST }, (_, i) => {
      const index = r * FRAMES_PER_REQUEST + i;
      return realisticFrame(index, new Date(timeBase + index).toISOString());
    });
    return { device, text: frames.map((frame) => JSON.stringify(frame)).join("\n") };
  });
  await drainStaging();
  const primaryBefore = await countReadStatements(PORTS.postgres);
  const replicaBefore = await countReadStatements(PORTS.replicaPostgres);
  const stopLag = sampleLag(keys);
  const stopStorm = withStorm ? storm(keys, devices) : null;
  let next = 0;
  let failures = 0;
  const before = cpuSnapshot();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < requests) {
      const { device, text } = bodies[next++]!;
      const response = await fetch(`${GATEWAY_URL}/functions/v1/telemetry-parse`, {
        method: "POST",
        headers: { authorization: `Bearer ${device.key}`, "content-type": "application/x-ndjson" },
        body: text,
      });
      await response.body?.cancel();
      if (!response.ok) failures++;
    }
  }));
  await drainStaging();
  const seconds = (performance.now() - t0) / 1000;
  const used = cpuBetween(before, cpuSnapshot());
  const stormResult = stopStorm ? await stopStorm() : { answered: 0, failures: 0 };
  const lag = await stopLag();
  const frames = requests * FRAMES_PER_REQUEST;
  return {
    framesPerSecond: frames / seconds,
    primaryDbUsPerFrame: ((used.postgres + used.postgrest) / frames) * 1e6,
    failures,
    primaryReads: await countReadStatements(PORTS.postgres) - primaryBefore,
    replicaReads: await countReadStatements(PORTS.replicaPostgres) - replicaBefore,
    stormReads: stormResult.answered,
    stormFailures: stormResult.failures,
    lagP50Ms: lag.primary.length ? percentile(lag.primary, 0.5) : NaN,
    lagMaxMs: lag.primary.length ? Math.max(...lag.primary) : NaN,
    standbyLagMaxMs: lag.standby.length ? Math.max(...lag.standby) : NaN,
  };
}

/** The storm alone: reads/s and the replica's CPU per read. */
async function stormAlone(keys: StackKeys, devices: Device[]) {
  const cpuBefore = replicaCpuSeconds();
  const stop = storm(keys, devices);
  await new Promise((resolve) => setTimeout(resolve, STORM_ALONE_MS));
  const { answered, failures } = await stop();
  const cpu = replicaCpuSeconds() - cpuBefore;
  return {
    readsPerSecond: answered / (STORM_ALONE_MS / 1000),
    replicaUsPerRead: (cpu / Math.max(answered, 1)) * 1e6,
    failures,
  };
}

/**
 * Runs the replica part: `rounds` × (ingest alone, ingest under the storm, alternating which
 * goes first), then the storm alone.
 * @param timeRange device times no other run uses, for `frames` frames
 */
export async function benchReplica(
  keys: StackKeys,
  devices: Device[],
  rounds: number,
  totalFrames: number,
  timeRange: (frames: number) => number,
  progress: (message: string) => void,
): Promise<ReplicaBench> {
  const ingestDevices = devices.slice(0, IN_FLIGHT);
  const result: ReplicaBench = {
    rounds: [],
    stormAlone: { readsPerSecond: 0, replicaUsPerRead: 0, failures: 0 },
  };
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? [false, true] : [true, false];
    const figures: Partial<Record<"alone" | "storm", IngestFigures>> = {};
    for (const withStorm of order) {
      progress(`replica round ${round}: ingest ${withStorm ? "under a read storm" : "alone"}`);
      const run = await ingest(keys, ingestDevices, totalFrames, timeRange(totalFrames), withStorm);
      figures[withStorm ? "storm" : "alone"] = run;
    }
    result.rounds.push({ alone: figures.alone!, storm: figures.storm! });
  }
  progress("replica: the read storm alone");
  result.stormAlone = await stormAlone(keys, ingestDevices);
  return result;
}

/** The part's table: medians over the rounds, and the ratios the issue asks for. */
export function replicaReport(bench: ReplicaBench): string[] {
  const med = (pick: (figures: IngestFigures) => number, side: "alone" | "storm") =>
    median(bench.rounds.map((round) => pick(round[side])));
  const fps = [med((f) => f.framesPerSecond, "alone"), med((f) => f.framesPerSecond, "storm")];
  const db = [
    med((f) => f.primaryDbUsPerFrame, "alone"),
    med((f) => f.primaryDbUsPerFrame, "storm"),
  ];
  const sum = (pick: (figures: IngestFigures) => number, side: "alone" | "storm") =>
    bench.rounds.reduce((total, round) => total + pick(round[side]), 0);
  const lag = bench.rounds.flatMap((round) => [round.alone, round.storm]);
  const line = (label: string, alone: number, storm: number, ratio = true) =>
    `  ${label.padEnd(46)}${alone.toFixed(1).padStart(12)}${storm.toFixed(1).padStart(12)}` +
    (ratio ? (storm / alone).toFixed(2).padStart(8) : "");
  return [
    `\nread replica: ${bench.rounds.length} rounds of ${IN_FLIGHT} × ${FRAMES_PER_REQUEST}-frame ` +
    `ingest, alone and under ${READERS} readers (medians; ratio = storm / alone)`,
    `  ${"".padEnd(46)}${"alone".padStart(12)}${"storm".padStart(12)}${"ratio".padStart(8)}`,
    line("ingest frames/s", fps[0]!, fps[1]!),
    line("primary DB CPU µs/frame (Postgres+PostgREST)", db[0]!, db[1]!),
    line("reads answered (all rounds)", 0, sum((f) => f.stormReads, "storm"), false),
    line("reads failed / ingest requests failed", 0, sum((f) => f.stormFailures, "storm"), false) +
    `   ${sum((f) => f.failures, "alone") + sum((f) => f.failures, "storm")}`,
    line(
      "page/rollup/flight reads on the primary",
      sum((f) => f.primaryReads, "alone"),
      sum((f) => f.primaryReads, "storm"),
      false,
    ),
    line(
      "page/rollup/flight reads on the replica",
      sum((f) => f.replicaReads, "alone"),
      sum((f) => f.replicaReads, "storm"),
      false,
    ),
    line(
      "replay lag p50 ms (primary's replay_lag)",
      med((f) => f.lagP50Ms, "alone"),
      med((f) => f.lagP50Ms, "storm"),
      false,
    ),
    line(
      "replay lag max ms (primary's replay_lag)",
      Math.max(...bench.rounds.map((round) => round.alone.lagMaxMs)),
      Math.max(...bench.rounds.map((round) => round.storm.lagMaxMs)),
      false,
    ),
    `  the standby's own lag figure, max over every round: ${
      Math.max(...lag.map((f) => f.standbyLagMaxMs)).toFixed(0)
    } ms`,
    `  storm alone: ${bench.stormAlone.readsPerSecond.toFixed(1)} reads/s, replica CPU ` +
    `${bench.stormAlone.replicaUsPerRead.toFixed(0)} µs/read (Postgres+PostgREST), ` +
    `${bench.stormAlone.failures} failed`,
  ];
}
