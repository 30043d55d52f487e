/**
 * Memory of the stack's function processes, from /proc: the resident set now (VmRSS) and its peak
 * (VmHWM). A hosted isolate is capped at 256 MB and the Supabase CLI's local edge runtime at
 * 150 MB; a worker over its cap is killed with every request in it, so each function process
 * here must stay under FUNCTION_RSS_LIMIT_MIB through the benchmark and the test suites.
 *
 * The peak of a process can be started afresh (Linux: writing 5 to /proc/<pid>/clear_refs), so a
 * caller can tell which part of a run made it; a PeakTracker keeps the highest peak per function
 * across such resets and across restarts of a process.
 */
import { stackPath } from "./layout.ts";

/** The cap every function process must stay under: the CLI's local edge runtime's. */
export const FUNCTION_RSS_LIMIT_MIB = 150;

export interface ProcessMemory {
  pid: number;
  /** Resident now, MiB. */
  rssMib: number;
  /** Highest resident since the process started or its peak was last reset, MiB. */
  peakMib: number;
}

/** The running function processes by function name (`telemetry-parse`, ...), with their pids. */
export function functionPids(): Map<string, number> {
  const pids = new Map<string, number>();
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(stackPath("run"))];
  } catch {
    return pids; // nothing was ever started
  }
  for (const entry of entries) {
    if (!entry.name.startsWith("function-") || !entry.name.endsWith(".pid")) continue;
    const pid = Number(Deno.readTextFileSync(stackPath("run", entry.name)).trim());
    if (Number.isInteger(pid) && pid > 0) {
      pids.set(entry.name.slice("function-".length, -".pid".length), pid);
    }
  }
  return new Map([...pids].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * VmRSS and VmHWM of these processes (those not running are left out). Read by `grep`, since
 * Deno lets only --allow-all read /proc; the stack's commands have --allow-run.
 */
export async function processMemory(pids: number[]): Promise<Map<number, ProcessMemory>> {
  const memory = new Map<number, ProcessMemory>();
  if (pids.length === 0) return memory;
  const { stdout } = await new Deno.Command("grep", {
    args: ["-H", "-E", "^(VmRSS|VmHWM):", ...pids.map((pid) => `/proc/${pid}/status`)],
    stdout: "piped",
    stderr: "null",
  }).output();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const match = line.match(/^\/proc\/(\d+)\/status:(VmRSS|VmHWM):\s+(\d+)/);
    if (!match) continue;
    const pid = Number(match[1]);
    const usage = memory.get(pid) ?? { pid, rssMib: 0, peakMib: 0 };
    const mib = Math.round(Number(match[3]) / 1024);
    if (match[2] === "VmRSS") usage.rssMib = mib;
    else usage.peakMib = mib;
    memory.set(pid, usage);
  }
  return memory;
}

/** Memory of every running function process, by function name. */
export async function functionMemory(): Promise<Map<string, ProcessMemory>> {
  const pids = functionPids();
  const byPid = await processMemory([...pids.values()]);
  const memory = new Map<string, ProcessMemory>();
  for (const [name, pid] of pids) {
    const usage = byPid.get(pid);
    if (usage) memory.set(name, usage);
  }
  return memory;
}

/** Starts each process's peak afresh at its current resident size (Linux's clear_refs). */
export async function resetPeaks(pids: number[]): Promise<void> {
  if (pids.length === 0) return;
  await new Deno.Command("sh", {
    args: [
      "-c",
      'for p; do echo 5 > "/proc/$p/clear_refs"; done 2>/dev/null',
      "sh",
      ...pids.map(String),
    ],
    stdout: "null",
    stderr: "null",
  }).output();
}

/** Where a peak is kept when a test starts it afresh, so the run's highest is not lost. */
function keptPeakPath(name: string): string {
  return stackPath("run", `peak-before-reset-${name}.mib`);
}

/** The highest peak kept by keepPeakThenReset for this function, 0 if none. */
function keptPeak(name: string): number {
  try {
    return Number(Deno.readTextFileSync(keptPeakPath(name)).trim()) || 0;
  } catch {
    return 0;
  }
}

/**
 * Keeps the function's peak so far (for PeakTracker) and starts it afresh: a test that measures
 * the peak of its own load must not hide what ran before it from the run's memory check.
 */
export async function keepPeakThenReset(name: string): Promise<void> {
  const pid = functionPids().get(name);
  if (pid === undefined) throw new Error(`function-${name} is not running`);
  const peak = (await processMemory([pid])).get(pid)?.peakMib ?? 0;
  Deno.writeTextFileSync(keptPeakPath(name), String(Math.max(keptPeak(name), peak)));
  await resetPeaks([pid]);
}

/**
 * Highest peak per function over a run. `observe()` reads every function's VmHWM (call it before
 * anything that may restart a process, and at the end); `segment()` also resets the peaks and
 * returns those of the part of the run since the last segment.
 */
export class PeakTracker {
  readonly highest = new Map<string, number>();

  /** A run starts here: peaks kept by an earlier run's tests are forgotten. */
  constructor() {
    for (const name of functionPids().keys()) {
      try {
        Deno.removeSync(keptPeakPath(name));
      } catch {
        // none kept
      }
    }
  }

  async observe(): Promise<Map<string, number>> {
    const now = new Map<string, number>();
    for (const [name, usage] of await functionMemory()) {
      now.set(name, usage.peakMib);
      const highest = Math.max(this.highest.get(name) ?? 0, usage.peakMib, keptPeak(name));
      this.highest.set(name, highest);
    }
    return now;
  }

  /** Peaks since the last segment (or since start), then starts every peak afresh. */
  async segment(): Promise<Map<string, number>> {
    const peaks = await this.observe();
    await resetPeaks([...functionPids().values()]);
    return peaks;
  }

  /** Functions whose highest peak passed the limit. */
  over(limitMib = FUNCTION_RSS_LIMIT_MIB): [string, number][] {
    return [...this.highest].filter(([, peak]) => peak > limitMib);
  }
}
