// deno-lint-ignore-file no-console -- part of a command-line tool: the console is its output
/**
 * The benchmark's parts about the hosted limits: the CPU each kind of request costs its function
 * (against the hosted 2 s of CPU per request), streaming devices at 100 Hz, and exports and
 * page walks of 10,000 rows. Memory peaks are read by the caller around each part.
 */
import { DEFAULT_WRITE_INTERVAL_MS } from "../device/stream.ts";
import { realisticFrame } from "./frames.ts";
import { fullFrame } from "./frames.ts";
import type { Frame } from "./frames.ts";
import { mainThreadCpuSeconds, processCpuSeconds } from "./cpu.ts";
import { loadKeys, mintUserToken } from "../stack/keys.ts";
import { GATEWAY_URL } from "../stack/layout.ts";
import * as postgres from "../stack/postgres.ts";

/** Hosted Edge Functions: CPU time one request may use. */
export const CPU_BUDGET_SECONDS = 2;

type Device = { id: string; key: string };
type TimeRange = (frames: number) => number;
type Progress = (message: string) => void;

const ndjson = (frames: Frame[]) => frames.map((frame) => JSON.stringify(frame)).join("\n");
const keyValue = (frames: Frame[]) =>
  frames.map((frame) => Object.entries(frame).map(([k, v]) => `${k}:${v}`).join(",")).join("\n");

interface RequestKind {
  name: string;
  requests: number;
  frames: number;
  make: (index: number, recordedAt: string) => Frame;
  format: "ndjson" | "kv";
}

const REQUEST_KINDS: RequestKind[] = [
  { name: "1 frame, 25 fields", requests: 200, frames: 1, make: realisticFrame, format: "ndjson" },
  {
    name: "500 frames, 25 fields",
    requests: 20,
    frames: 500,
    make: realisticFrame,
    format: "ndjson",
  },
  { name: "500 frames, 80 fields", requests: 20, frames: 500, make: fullFrame, format: "ndjson" },
  {
    name: "10,000 frames, 25 fields (4.8 MiB key:value)",
    requests: 5,
    frames: 10_000,
    make: realisticFrame,
    format: "kv",
  },
  {
    // 80 values a line take about 1.5 kB even as key:value: 3,400 lines is the most that fits
    // under the 5 MiB body cap (10,000 such lines, 15 MB, are refused with a 413).
    name: "3,400 frames, 80 fields (4.8 MiB key:value)",
    requests: 5,
    frames: 3_400,
    make: fullFrame,
    format: "kv",
  },
];

export interface RequestCpu {
  kind: string;
  requests: number;
  /** The function process's CPU, all threads. */
  cpuSecondsPerRequest: number;
  /** Its main thread's: what hosted Supabase charges against the 2 s (see mainThreadCpuSeconds). */
  threadCpuSecondsPerRequest: number;
  budgetShare: number;
  threadBudgetShare: number;
}

/** CPU seconds of telemetry-parse so far: the process (all threads) and its JavaScript thread. */
function telemetryParseCpu(): { process: number; thread: number } {
  return {
    process: processCpuSeconds("function-telemetry-parse"),
    thread: mainThreadCpuSeconds("function-telemetry-parse"),
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * CPU of telemetry-parse per request of each kind: requests one at a time (nothing else in
 * flight), the process's CPU over them divided by their number. The 10,000 × 80-field line is
 * 20 requests of 500 frames (one such body is over the 5 MiB cap).
 */
export async function benchRequestCpu(
  devices: Device[],
  timeRange: TimeRange,
  progress: Progress,
): Promise<RequestCpu[]> {
  const results: RequestCpu[] = [];
  for (const kind of REQUEST_KINDS) {
    progress(`CPU per request: ${kind.name}, ${kind.requests} requests one at a time`);
    const base = timeRange(kind.requests * kind.frames);
    const bodies = Array.from({ length: kind.requests }, (_, r) => {
      const frames = Array.from(
        { length: kind.frames },
        (_, i) =>
          kind.make(r * kind.frames + i, new Date(base + r * kind.frames + i).toISOString()),
      );
      return kind.format === "kv" ? keyValue(frames) : ndjson(frames);
    });
    await pause(1000); // let the previous part's work (flushes, GC) settle
    const before = telemetryParseCpu();
    for (const [r, text] of bodies.entries()) {
      const device = devices[r % devices.length] as Device;
      const response = await fetch(`${GATEWAY_URL}/functions/v1/telemetry-parse`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${device.key}`,
          "content-type": kind.format === "kv" ? "text/plain" : "application/x-ndjson",
        },
        body: text,
      });
      const answer = await response.text();
      if (!response.ok) throw new Error(`${kind.name}: ${response.status} ${answer.slice(0, 300)}`);
    }
    const after = telemetryParseCpu();
    const perRequest = (after.process - before.process) / kind.requests;
    const threadPerRequest = (after.thread - before.thread) / kind.requests;
    results.push({
      kind: kind.name,
      requests: kind.requests,
      cpuSecondsPerRequest: perRequest,
      threadCpuSecondsPerRequest: threadPerRequest,
      budgetShare: perRequest / CPU_BUDGET_SECONDS,
      threadBudgetShare: threadPerRequest / CPU_BUDGET_SECONDS,
    });
  }
  const wide = results.find((r) => r.kind === "500 frames, 80 fields");
  if (wide) {
    results.push({
      kind: "10,000 frames, 80 fields (as 20 × 500: over the 5 MiB cap as one body)",
      requests: 20,
      cpuSecondsPerRequest: wide.cpuSecondsPerRequest * 20,
      threadCpuSecondsPerRequest: wide.threadCpuSecondsPerRequest * 20,
      budgetShare: wide.cpuSecondsPerRequest * 20 / CPU_BUDGET_SECONDS,
      threadBudgetShare: wide.threadCpuSecondsPerRequest * 20 / CPU_BUDGET_SECONDS,
    });
  }
  console.log(
    "\nCPU of telemetry-parse per request, one request at a time: its JavaScript thread (what " +
      "hosted Supabase charges) and the whole process (with V8's GC and compiler threads):",
  );
  const share = (seconds: number) =>
    `${(seconds * 1000).toFixed(1).padStart(8)} ms ` +
    `${(seconds / CPU_BUDGET_SECONDS * 100).toFixed(1).padStart(5)}%`;
  console.log(`  ${"".padEnd(72)} ${"thread".padStart(18)}   ${"process".padStart(18)}`);
  for (const r of results) {
    console.log(
      `  ${r.kind.padEnd(72)} ${share(r.threadCpuSecondsPerRequest)}   ` +
        `${share(r.cpuSecondsPerRequest)}  (of ${CPU_BUDGET_SECONDS} s)`,
    );
  }
  return results;
}

export interface StreamsRun {
  streams: number;
  seconds: number;
  frames: number;
  ended: Record<string, number>;
  cpuSecondsPerStream: number;
  /**
   * The CPU one stream would use over a full 120 s request at this rate, and its share of the
   * budget: the CPU per stored frame times 120 s of frames. Per frame, because a stream ended
   * early (cpu_limit) used less CPU than a whole one would: dividing by the streams understated it.
   */
  cpuSecondsPer120s: number;
  budgetShare120s: number;
  /** The same from the function's JavaScript thread alone (what hosted Supabase charges). */
  threadCpuSecondsPer120s: number;
  threadBudgetShare120s: number;
  peakRssMib: number;
}

/**
 * `count` devices each streaming 25-field NDJSON frames at 100 Hz on one `?stream=true` request of
 * `seconds`, all at once, writing as the device client's streamFrames does (once a second), with
 * no one watching them live.
 */
export async function benchStreams(
  devices: Device[],
  count: number,
  seconds: number,
  timeRange: TimeRange,
  progress: Progress,
): Promise<StreamsRun> {
  const rate = 100;
  progress(`${count} streams at ${rate} Hz for ${seconds} s`);
  const encoder = new TextEncoder();
  const before = telemetryParseCpu();
  const answers = await Promise.all(
    Array.from({ length: count }, async (_, s) => {
      const device = devices[s % devices.length] as Device;
      const base = timeRange(rate * (seconds + 10));
      let sent = 0;
      let timer: ReturnType<typeof setInterval> | undefined;
      const started = performance.now();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setInterval(() => {
            const due = Math.floor((performance.now() - started) / 1000 * rate);
            const frames: Frame[] = [];
            for (; sent < due; sent++) {
              frames.push(realisticFrame(sent, new Date(base + sent * 10).toISOString()));
            }
            if (frames.length > 0) controller.enqueue(encoder.encode(ndjson(frames) + "\n"));
          }, DEFAULT_WRITE_INTERVAL_MS);
        },
        cancel() {
          clearInterval(timer);
        },
      });
      const response = await fetch(
        `${GATEWAY_URL}/functions/v1/telemetry-parse?stream=true&max_seconds=${seconds}`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${device.key}`,
            "content-type": "application/x-ndjson",
          },
          body,
        },
      );
      const answer = await response.json();
      clearInterval(timer);
      if (response.status !== 200) {
        throw new Error(`stream ${s}: ${response.status} ${JSON.stringify(answer)}`);
      }
      return answer as { accepted: number; stream: { ended: string } };
    }),
  );
  const after = telemetryParseCpu();
  const cpu = after.process - before.process;
  const ended: Record<string, number> = {};
  for (const answer of answers) ended[answer.stream.ended] = (ended[answer.stream.ended] ?? 0) + 1;
  const perStream = cpu / count;
  const frames = answers.reduce((sum, answer) => sum + answer.accepted, 0);
  const framesPer120s = rate * 120;
  const per120s = cpu / frames * framesPer120s;
  const threadPer120s = (after.thread - before.thread) / frames * framesPer120s;
  const run: StreamsRun = {
    streams: count,
    seconds,
    frames,
    ended,
    cpuSecondsPerStream: perStream,
    cpuSecondsPer120s: per120s,
    budgetShare120s: per120s / CPU_BUDGET_SECONDS,
    threadCpuSecondsPer120s: threadPer120s,
    threadBudgetShare120s: threadPer120s / CPU_BUDGET_SECONDS,
    peakRssMib: NaN,
  };
  console.log(
    `\n${count} streams at ${rate} Hz for ${seconds} s: ${run.frames} frames stored, ended ` +
      `${JSON.stringify(ended)}; telemetry-parse CPU ${(perStream * 1000).toFixed(0)} ms per ` +
      `stream, ${(cpu / frames * 1e6).toFixed(0)} µs per frame: ` +
      `${run.cpuSecondsPer120s.toFixed(2)} s per 120 s stream of ${framesPer120s} frames ` +
      `(${(run.budgetShare120s * 100).toFixed(0)}% of ${CPU_BUDGET_SECONDS} s); its JavaScript ` +
      `thread alone ${run.threadCpuSecondsPer120s.toFixed(2)} s ` +
      `(${(run.threadBudgetShare120s * 100).toFixed(0)}%)`,
  );
  return run;
}

export interface ExportsRun {
  rows: number;
  cpuSecondsPerExport: Record<string, number>;
  peakRssMib: number;
}

/**
 * One device with 10,000 flushed 25-field frames; then, 4 at a time, three times each: a CSV
 * export, an NDJSON export (both every frame, streamed), and a walk of 10 pages of 1,000 by
 * cursor. CPU of telemetry-query per request kind, run one kind at a time.
 */
export async function benchExports(
  owner: string,
  devices: Device[],
  timeRange: TimeRange,
  progress: Progress,
): Promise<ExportsRun> {
  const rows = 10_000;
  const device = devices[devices.length - 1] as Device;
  progress(`exports: storing ${rows} frames for one device`);
  const base = timeRange(rows);
  for (let r = 0; r < rows / 500; r++) {
    const frames = Array.from(
      { length: 500 },
      (_, i) => realisticFrame(r * 500 + i, new Date(base + (r * 500 + i) * 100).toISOString()),
    );
    const response = await fetch(`${GATEWAY_URL}/functions/v1/telemetry-parse`, {
      method: "POST",
      headers: { authorization: `Bearer ${device.key}`, "content-type": "application/x-ndjson" },
      body: ndjson(frames),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`storing export frames: ${response.status}`);
  }
  await postgres.psql("select public.flush_telemetry()");
  const token = await mintUserToken(await loadKeys(), owner);
  const from = new Date(base - 1000).toISOString();
  const to = new Date(base + rows * 100 + 1000).toISOString();
  const url = (params: Record<string, string>) =>
    `${GATEWAY_URL}/functions/v1/telemetry-query?${new URLSearchParams({
      "device_id": device.id,
      from,
      to,
      ...params,
    })}`;
  const get = async (params: Record<string, string>): Promise<string> => {
    const response = await fetch(url(params), { headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    if (!response.ok) throw new Error(`telemetry-query: ${response.status} ${text.slice(0, 300)}`);
    return text;
  };
  const kinds: Record<string, () => Promise<number>> = {
    "CSV export": async () => (await get({ format: "csv" })).split("\n").length - 2,
    "NDJSON export": async () => (await get({ format: "ndjson" })).trim().split("\n").length,
    "10 pages of 1,000 by cursor": async () => {
      let read = 0;
      let cursor: string | null = null;
      do {
        const params: Record<string, string> = { limit: "1000", "order_by": "recorded_at" };
        if (cursor) params.cursor = cursor;
        const page = JSON.parse(await get(params));
        read += page.data.length;
        cursor = page.next_cursor;
      } while (cursor);
      return read;
    },
  };
  const cpuSecondsPerExport: Record<string, number> = {};
  for (const [name, run] of Object.entries(kinds)) {
    progress(`exports: ${name}, 4 at a time, 3 times`);
    const before = processCpuSeconds("function-telemetry-query");
    for (let round = 0; round < 3; round++) {
      const counts = await Promise.all(Array.from({ length: 4 }, run));
      if (counts.some((count) => count !== rows)) {
        throw new Error(`${name}: read ${counts.join(", ")} rows, expected ${rows}`);
      }
    }
    cpuSecondsPerExport[name] = (processCpuSeconds("function-telemetry-query") - before) / 12;
  }
  console.log(`\nCPU of telemetry-query per request over ${rows} rows:`);
  for (const [name, seconds] of Object.entries(cpuSecondsPerExport)) {
    console.log(
      `  ${name.padEnd(30)} ${(seconds * 1000).toFixed(0).padStart(6)} ms  ` +
        `${
          (seconds / CPU_BUDGET_SECONDS * 100).toFixed(1).padStart(5)
        }% of ${CPU_BUDGET_SECONDS} s`,
    );
  }
  return { rows, cpuSecondsPerExport, peakRssMib: NaN };
}
