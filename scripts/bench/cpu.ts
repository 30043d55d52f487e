/**
 * CPU and memory of the local stack's components, read from /proc: a component's CPU is the user
 * plus system time of its processes and their descendants, plus what its processes have reaped
 * from children that already exited (Postgres backends and pg_cron workers come and go, and the
 * postmaster's cutime/cstime keeps their time). Reading /proc needs Deno's --allow-all.
 */
import { join } from "node:path";
import { stackPath } from "../stack/layout.ts";
import { dataDir } from "../stack/postgres.ts";
import { replicaDataDir } from "../stack/replica.ts";

/** The parts of the stack whose CPU the benchmark reports, and the process names they start from. */
export const COMPONENTS = {
  postgres: () => [postmasterPid()],
  postgrest: () => [pidFile("postgrest")],
  gateway: () => [pidFile("gateway")],
  function: () => [pidFile("function-telemetry-parse")],
  redis: () => [pidFile("redis"), pidFile("upstash")],
} as const;

export type ComponentName = keyof typeof COMPONENTS;
export type CpuSnapshot = Record<ComponentName, number>;

const TICKS_PER_SECOND = 100;

function pidFile(name: string): number {
  return Number(Deno.readTextFileSync(stackPath("run", `${name}.pid`)).trim());
}

function postmasterPid(): number {
  return Number(Deno.readTextFileSync(join(dataDir(), "postmaster.pid")).split("\n")[0]);
}

interface ProcStat {
  ppid: number;
  /** utime + stime, seconds. */
  own: number;
  /** cutime + cstime: children this process has waited for, seconds. */
  reaped: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const field = (n: number) => Number(fields[n - 3]);
    return {
      ppid: field(4),
      own: (field(14) + field(15)) / TICKS_PER_SECOND,
      reaped: (field(16) + field(17)) / TICKS_PER_SECOND,
    };
  } catch {
    return null; // exited meanwhile
  }
}

function allStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readStat(Number(entry.name));
    if (stat) stats.set(Number(entry.name), stat);
  }
  return stats;
}

function treeCpu(roots: number[], stats: Map<number, ProcStat>): number {
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) children.set(stat.ppid, [...children.get(stat.ppid) ?? [], pid]);
  let total = 0;
  const visit = (pid: number) => {
    const stat = stats.get(pid);
    if (!stat) return;
    total += stat.own + stat.reaped;
    for (const child of children.get(pid) ?? []) visit(child);
  };
  roots.forEach(visit);
  return total;
}

/** CPU seconds used so far by each component. */
export function cpuSnapshot(): CpuSnapshot {
  const stats = allStats();
  const snapshot = {} as CpuSnapshot;
  for (const [name, roots] of Object.entries(COMPONENTS)) {
    snapshot[name as ComponentName] = treeCpu(roots(), stats);
  }
  return snapshot;
}

/** CPU seconds each component used between two snapshots. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  const used = {} as CpuSnapshot;
  for (const name of Object.keys(COMPONENTS) as ComponentName[]) {
    used[name] = after[name] - before[name];
  }
  return used;
}

/** CPU seconds used so far by one process (e.g. a benchmark's influxd) and its children. */
export function pidCpuSeconds(pid: number): number {
  return treeCpu([pid], allStats());
}

/** CPU seconds used so far by one stack process (e.g. `function-telemetry-query`) and its children. */
export function processCpuSeconds(name: string): number {
  return treeCpu([pidFile(name)], allStats());
}

/**
 * CPU seconds used so far by one stack process's main thread, from its schedstat (nanoseconds on
 * CPU). A function process runs its JavaScript there; V8's garbage collector and compiler also
 * work on helper threads, which the process figure above includes. Hosted Supabase charges a
 * request the CPU of its worker's own thread (supabase/edge-runtime, crates/cpu_timer: a timer on
 * CLOCK_THREAD_CPUTIME_ID), so this is the figure the 2 s is held against; the bench prints both.
 */
export function mainThreadCpuSeconds(name: string): number {
  return pidMainThreadCpuSeconds(pidFile(name));
}

/** CPU seconds used so far by one process's main thread (e.g. a benchmark's bare server). */
export function pidMainThreadCpuSeconds(pid: number): number {
  const onCpuNs = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/schedstat`).split(" ")[0];
  return Number(onCpuNs) / 1e9;
}

/** CPU seconds used so far by the read replica: its standby's postmaster tree and its PostgREST. */
export function replicaCpuSeconds(): number {
  const postmaster = Number(
    Deno.readTextFileSync(join(replicaDataDir(), "postmaster.pid")).split("\n")[0],
  );
  return treeCpu([postmaster, pidFile("replica-postgrest")], allStats());
}
