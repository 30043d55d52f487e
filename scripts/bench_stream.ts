// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * bench:stream: the CPU one streamed frame costs. For each rate, one device holds a single
 * telemetry-parse request open (?stream=true&max_seconds=<seconds>) and sends a realistic
 * 25-field NDJSON frame at that rate until the function answers at its limit. The function's
 * process CPU over the request (from /proc, so --allow-all) divided by the frames it accepted
 * is the CPU per frame; the whole request's CPU is what the hosted 2 s budget is compared to
 * ("% of 2 s"), beside what the function charged the request against its own budget ("charged
 * ms", which ends the request at TELEMETRY_STREAM_CPU_BUDGET_MS with `ended: cpu_limit`).
 * The device writes what it has `--writes` times a second (default 10: every 100 ms, so one frame
 * per write at 10 Hz and 10 at 100 Hz); each write is one chunk of body the function reads.
 * Usage: deno task bench:stream [--seconds 120] [--rates 10,100] [--writes 10]   (stack running)
 */
import { parseArgs } from "node:util";
import { cpuBetween, cpuSnapshot } from "./bench/cpu.ts";
import { realisticFrame } from "./bench/frames.ts";
import { GATEWAY_URL, PROJECT_ROOT } from "./stack/layout.ts";
import * as postgres from "./stack/postgres.ts";

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "120" },
    rates: { type: "string", default: "10,100" },
    writes: { type: "string", default: "10" },
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

/** Sends frames at `rate` per second on one streaming request until the function answers. */
async function streamRun(rate: number) {
  const device = await createDevice(`stream bench ${rate} Hz`);
  const encoder = new TextEncoder();
  const base = Date.now() - 3 * 3600_000;
  let sent = 0;
  let open = true;
  let timer: ReturnType<typeof setInterval> | undefined;
  const started = performance.now();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // At each write, the frames due by now: the rate holds whatever the timer's jitter.
      timer = setInterval(() => {
        if (!open) return;
        const due = Math.floor((performance.now() - started) / 1000 * rate);
        let text = "";
        for (; sent < due; sent++) {
          text += JSON.stringify(
            realisticFrame(sent, new Date(base + sent * (1000 / rate)).toISOString()),
          ) + "\n";
        }
        if (text !== "") controller.enqueue(encoder.encode(text));
      }, WRITE_INTERVAL_MS);
    },
    cancel() {
      open = false;
    },
  });
  const before = cpuSnapshot();
  const response = await fetch(
    `${GATEWAY_URL}/functions/v1/telemetry-parse?stream=true&max_seconds=${SECONDS}`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${device.key}`, "content-type": "application/x-ndjson" },
      body,
    },
  );
  const answer = await response.json();
  const cpu = cpuBetween(before, cpuSnapshot());
  open = false;
  clearInterval(timer);
  if (response.status !== 200) throw new Error(`${response.status}: ${JSON.stringify(answer)}`);
  const accepted: number = answer.accepted;
  const usPerFrame = cpu.function / accepted * 1e6;
  return {
    rate,
    writesPerSecond: Number(options.writes),
    seconds: Math.round(answer.stream.duration_ms / 100) / 10,
    ended: answer.stream.ended,
    chunks: answer.stream.chunks,
    sent,
    accepted,
    functionCpuSeconds: Math.round(cpu.function * 1000) / 1000,
    functionUsPerFrame: Math.round(usPerFrame),
    gatewayUsPerFrame: Math.round(cpu.gateway / accepted * 1e6),
    dbUsPerFrame: Math.round((cpu.postgres + cpu.postgrest) / accepted * 1e6),
    budgetShare: Math.round(cpu.function / BUDGET_CPU_SECONDS * 1000) / 10,
    /** What the function charged the request against its CPU budget (its own steps). */
    chargedCpuMs: answer.stream.cpu_ms as number,
  };
}

try {
  const results = [];
  for (const rate of RATES) {
    console.error(`streaming at ${rate} Hz for ${SECONDS} s ...`);
    results.push(await streamRun(rate));
  }
  console.log(
    "| rate | writes/s | request s | ended | chunks | frames | function CPU s | µs/frame function | " +
      "gateway | DB | % of 2 s | charged ms |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.rate} Hz | ${r.writesPerSecond} | ${r.seconds} | ${r.ended} | ${r.chunks} | ${r.accepted} | ` +
        `${r.functionCpuSeconds} | ${r.functionUsPerFrame} | ${r.gatewayUsPerFrame} | ` +
        `${r.dbUsPerFrame} | ${r.budgetShare} | ${r.chargedCpuMs} |`,
    );
  }
  await Deno.mkdir(`${PROJECT_ROOT}/.bench`, { recursive: true });
  await Deno.writeTextFile(`${PROJECT_ROOT}/.bench/stream.json`, JSON.stringify(results, null, 2));
} finally {
  await cleanup();
}
// The SIGINT listener would keep the process alive.
Deno.exit(0);
