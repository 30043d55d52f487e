// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * bench:stream: the CPU one streamed frame costs. For each rate, one device holds a single
 * telemetry-parse request open (?stream=true&max_seconds=<seconds>) and sends a realistic
 * 25-field NDJSON frame at that rate until the function answers at its limit. The function's
 * process CPU over the request (from /proc, so --allow-all) divided by the frames it accepted
 * is the CPU per frame; the whole request's CPU is what the hosted 2 s budget is compared to
 * ("% of 2 s"), beside its JavaScript thread's alone ("thread", what hosted Supabase charges: see
 * bench/cpu.ts) and what the function charged the request against its own budget ("charged
 * ms", which ends the request at TELEMETRY_STREAM_CPU_BUDGET_MS with `ended: cpu_limit`).
 * The device writes what it has `--writes` times a second (default 1, as the device client's
 * streamFrames does: 10 frames a write at 10 Hz, 100 at 100 Hz); each write is one chunk of body
 * the function reads. No one watches the device unless `--watched`: then the bench holds its live
 * watch mark as an open telemetry-live stream does, and the function publishes every chunk.
 * Baseline in the same run ("floor"): the same device stream, for as long, sent straight to a bare
 * `Deno.serve` that only reads the body (bench/stream_floor_server.ts) and runs with the function
 * processes' own V8 flags: what the runtime alone costs to receive it, which no parser can undercut.
 * Usage: deno task bench:stream [--seconds 120] [--rates 10,100] [--writes 1] [--watched]
 *   (stack running)
 */
import { parseArgs } from "node:util";
import {
  cpuBetween,
  cpuSnapshot,
  mainThreadCpuSeconds,
  pidCpuSeconds,
  pidMainThreadCpuSeconds,
} from "./bench/cpu.ts";
import { realisticFrame } from "./bench/frames.ts";
import { GATEWAY_URL, PORTS, PROJECT_ROOT, stackPath } from "./stack/layout.ts";
import { createLiveFeed, LIVE_WATCH_RENEW_MS } from "../shared/live/live_feed.ts";
import { createMemoryLogger } from "../shared/platform/log.ts";
import { loadKeys } from "./stack/keys.ts";
import * as postgres from "./stack/postgres.ts";

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "120" },
    rates: { type: "string", default: "10,100" },
    writes: { type: "string", default: "1" },
    watched: { type: "boolean", default: false },
  },
});
const SECONDS = Number(options.seconds);
const RATES = options.rates.split(",").map(Number);
const WRITE_INTERVAL_MS = 1000 / Number(options.writes);
const BUDGET_CPU_SECONDS = 2;

const owner = crypto.randomUUID();
await postgres.psql(
  `insert into auth.users (id, email) values ('${owner}', 'bench-${owner}@example.test')`,
);
const cleanup = () => postgres.psql(`delete from auth.users where id = '${owner}'`);
Deno.addSignalListener("SIGINT", () => cleanup().finally(() => Deno.exit(130)));

async function createDevice(name: string): Promise<{ id: string; key: string }> {
  const out = await postgres.psql(`
    set request.jwt.claims = '{"role":"service_role"}';
    select row_to_json(d) from public.create_device('${name}', '${owner}') as d;`);
  return JSON.parse(out.split("\n").at(-1) ?? "{}");
}

/**
 * A device's body: at each write, the frames due by now (so the rate holds whatever the timer's
 * jitter). It closes after `closeAfterMs`, or never (then the reader ends the request).
 */
function deviceBody(rate: number, closeAfterMs: number | null) {
  const encoder = new TextEncoder();
  const base = Date.now() - 3 * 3600_000;
  let sent = 0;
  let open = true;
  let timer: ReturnType<typeof setInterval> | undefined;
  const started = performance.now();
  const stop = () => {
    open = false;
    clearInterval(timer);
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(() => {
        if (!open) return;
        const elapsed = performance.now() - started;
        if (closeAfterMs !== null && elapsed >= closeAfterMs) {
          stop();
          controller.close();
          return;
        }
        const due = Math.floor(elapsed / 1000 * rate);
        let text = "";
        for (; sent < due; sent++) {
          text += JSON.stringify(
            realisticFrame(sent, new Date(base + sent * (1000 / rate)).toISOString()),
          ) + "\n";
        }
        if (text !== "") controller.enqueue(encoder.encode(text));
      }, WRITE_INTERVAL_MS);
    },
    cancel: stop,
  });
  return { body, stop, sent: () => sent };
}

/** The V8 flags the stack's telemetry-parse process runs with, read from its command line. */
function functionV8Flags(): string {
  const pid = Deno.readTextFileSync(stackPath("run", "function-telemetry-parse.pid")).trim();
  const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  return args.find((arg) => arg.startsWith("--v8-flags=")) ?? "--v8-flags=";
}

/** Starts the bare body reader, on a port it picks, with the function's V8 flags. */
async function startFloorServer() {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      functionV8Flags(),
      "--allow-net",
      `${PROJECT_ROOT}/scripts/bench/stream_floor_server.ts`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await lines.read()).value?.trim());
  if (!port) throw new Error("the floor server did not start");
  lines.releaseLock();
  return {
    url: `http://127.0.0.1:${port}/`,
    cpuSeconds: () => pidCpuSeconds(child.pid),
    threadCpuSeconds: () => pidMainThreadCpuSeconds(child.pid),
    async stop() {
      child.kill();
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

/** The same device stream, for as long, read by the bare server: the runtime's CPU alone. */
async function floorRun(rate: number, floor: Awaited<ReturnType<typeof startFloorServer>>) {
  const device = deviceBody(rate, SECONDS * 1000);
  const before = floor.cpuSeconds();
  const threadBefore = floor.threadCpuSeconds();
  // The server answers once it has read the whole body.
  const response = await fetch(floor.url, { method: "POST", body: device.body });
  await response.body?.cancel();
  if (response.status !== 204) throw new Error(`the floor server answered ${response.status}`);
  return {
    cpuSeconds: floor.cpuSeconds() - before,
    threadCpuSeconds: floor.threadCpuSeconds() - threadBefore,
    frames: device.sent(),
  };
}

/** Holds the device's live watch mark, as an open telemetry-live stream does, until stopped. */
async function watchLive(deviceId: string): Promise<() => void> {
  const keys = await loadKeys();
  const feed = createLiveFeed(
    { url: `http://127.0.0.1:${PORTS.upstash}`, token: keys.upstashToken },
    createMemoryLogger(),
  );
  await feed.watch(deviceId);
  const timer = setInterval(() => void feed.watch(deviceId), LIVE_WATCH_RENEW_MS);
  return () => clearInterval(timer);
}

/** Sends frames at `rate` per second on one streaming request until the function answers. */
async function streamRun(rate: number) {
  const device = await createDevice(`stream bench ${rate} Hz`);
  const stopWatching = options.watched ? await watchLive(device.id) : () => {};
  const sender = deviceBody(rate, null);
  const before = cpuSnapshot();
  const threadBefore = mainThreadCpuSeconds("function-telemetry-parse");
  const response = await fetch(
    `${GATEWAY_URL}/functions/v1/telemetry-parse?stream=true&max_seconds=${SECONDS}`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${device.key}`, "content-type": "application/x-ndjson" },
      body: sender.body,
    },
  );
  const answer = await response.json();
  const cpu = cpuBetween(before, cpuSnapshot());
  const threadCpu = mainThreadCpuSeconds("function-telemetry-parse") - threadBefore;
  sender.stop();
  stopWatching();
  if (response.status !== 200) throw new Error(`${response.status}: ${JSON.stringify(answer)}`);
  const accepted: number = answer.accepted;
  const usPerFrame = cpu.function / accepted * 1e6;
  return {
    rate,
    writesPerSecond: Number(options.writes),
    watched: options.watched,
    seconds: Math.round(answer.stream.duration_ms / 100) / 10,
    ended: answer.stream.ended,
    chunks: answer.stream.chunks,
    sent: sender.sent(),
    accepted,
    functionCpuSeconds: Math.round(cpu.function * 1000) / 1000,
    functionUsPerFrame: Math.round(usPerFrame),
    gatewayUsPerFrame: Math.round(cpu.gateway / accepted * 1e6),
    dbUsPerFrame: Math.round((cpu.postgres + cpu.postgrest) / accepted * 1e6),
    budgetShare: Math.round(cpu.function / BUDGET_CPU_SECONDS * 1000) / 10,
    /** The function's JavaScript thread alone: what hosted Supabase charges (bench/cpu.ts). */
    threadCpuSeconds: Math.round(threadCpu * 1000) / 1000,
    threadBudgetShare: Math.round(threadCpu / BUDGET_CPU_SECONDS * 1000) / 10,
    /** What the function charged the request against its CPU budget (its own steps). */
    chargedCpuMs: answer.stream.cpu_ms as number,
  };
}

const floor = await startFloorServer();
try {
  const results = [];
  for (const rate of RATES) {
    console.error(`streaming at ${rate} Hz for ${SECONDS} s to the bare reader (floor) ...`);
    const floorResult = await floorRun(rate, floor);
    console.error(`streaming at ${rate} Hz for ${SECONDS} s to telemetry-parse ...`);
    const ours = await streamRun(rate);
    const floorUsPerFrame = floorResult.cpuSeconds / floorResult.frames * 1e6;
    results.push({
      ...ours,
      floorCpuSeconds: Math.round(floorResult.cpuSeconds * 1000) / 1000,
      floorUsPerFrame: Math.round(floorUsPerFrame),
      floorBudgetShare: Math.round(floorResult.cpuSeconds / BUDGET_CPU_SECONDS * 1000) / 10,
      floorThreadBudgetShare: Math.round(
        floorResult.threadCpuSeconds / BUDGET_CPU_SECONDS * 1000,
      ) / 10,
      /** Function CPU per frame over the floor's, in the same run. */
      ratioToFloor: Math.round(ours.functionUsPerFrame / floorUsPerFrame * 10) / 10,
    });
  }
  console.log(
    "| rate | writes/s | watched | request s | ended | chunks | frames | function CPU s | µs/frame function | " +
      "gateway | DB | % of 2 s | thread CPU s | thread % of 2 s | charged ms | floor CPU s | " +
      "floor µs/frame | floor % of 2 s | floor thread % | function ÷ floor |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.rate} Hz | ${r.writesPerSecond} | ${
        r.watched ? "yes" : "no"
      } | ${r.seconds} | ${r.ended} | ${r.chunks} | ${r.accepted} | ` +
        `${r.functionCpuSeconds} | ${r.functionUsPerFrame} | ${r.gatewayUsPerFrame} | ` +
        `${r.dbUsPerFrame} | ${r.budgetShare} | ${r.threadCpuSeconds} | ${r.threadBudgetShare} | ` +
        `${r.chargedCpuMs} | ${r.floorCpuSeconds} | ${r.floorUsPerFrame} | ${r.floorBudgetShare} | ` +
        `${r.floorThreadBudgetShare} | ${r.ratioToFloor} |`,
    );
  }
  await Deno.mkdir(`${PROJECT_ROOT}/.bench`, { recursive: true });
  await Deno.writeTextFile(`${PROJECT_ROOT}/.bench/stream.json`, JSON.stringify(results, null, 2));
} finally {
  await floor.stop();
  await cleanup();
}
// The SIGINT listener would keep the process alive.
Deno.exit(0);
