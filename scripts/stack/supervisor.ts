// deno-lint-ignore-file no-console -- a background process: its console is its log file
/**
 * Restarts a function process that died, as the hosted platform starts a new isolate after one
 * was killed (out of memory, a crash): without it one fatal request would leave a function down
 * until the stack is started again. Runs in the background beside the stack (`.stack/logs/
 * supervisor.log`), started by `deno task stack start` and stopped first by `stop`.
 *
 * A function counts as dead when its pid file (.stack/run/function-<name>.pid) names a process
 * that is gone: `stop` removes the pid file, so a function stopped on purpose stays stopped.
 * Each restart is logged here and in the function's own log, and counted in
 * .stack/restarts.json, which `deno task stack status` shows. A function that keeps dying is
 * restarted with a growing pause (1 s doubling to 30 s), so a broken build does not spin.
 */
import { readFunctionEnvFile } from "./env_file.ts";
import { loadKeys } from "./keys.ts";
import { stackPath } from "./layout.ts";
import { portHolder, spawnDetached } from "./processes.ts";
import { type Service, services } from "./services.ts";

const POLL_MS = 500;
const FIRST_PAUSE_MS = 1_000;
const MAX_PAUSE_MS = 30_000;
/** A process that stayed up this long has recovered: its pause starts from the first again. */
const STABLE_MS = 60_000;

/** The pids of a list that are alive (not gone, not zombies), from one `ps` call. */
function alivePids(pids: number[]): Set<number> {
  if (pids.length === 0) return new Set();
  const result = new Deno.Command("ps", { args: ["-o", "pid=,stat=", "-p", pids.join(",")] })
    .outputSync();
  const alive = new Set<number>();
  for (const line of new TextDecoder().decode(result.stdout).split("\n")) {
    const [pid, state] = line.trim().split(/\s+/);
    if (pid && state && !state.startsWith("Z")) alive.add(Number(pid));
  }
  return alive;
}

function recordedPid(name: string): number | null {
  try {
    const pid = Number(Deno.readTextFileSync(stackPath("run", `${name}.pid`)).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

const restarts: Record<string, number> = {};
const pauses = new Map<string, { pauseMs: number; startedAt: number }>();

async function saveCounts(): Promise<void> {
  const file = stackPath("restarts.json");
  await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(restarts));
  await Deno.rename(`${file}.tmp`, file);
}

async function restart(service: Service, deadPid: number): Promise<void> {
  const now = Date.now();
  const last = pauses.get(service.name);
  const pauseMs = !last || now - last.startedAt > STABLE_MS
    ? 0
    : Math.min(MAX_PAUSE_MS, Math.max(FIRST_PAUSE_MS, last.pauseMs * 2));
  if (last && now < last.startedAt + pauseMs) return; // still pausing: next poll
  // `deno task stack start` may be bringing it back at the same time.
  if (await portHolder(service.port) !== null) return;
  await spawnDetached(service.name, service.command, service.env);
  pauses.set(service.name, { pauseMs, startedAt: Date.now() });
  restarts[service.name] = (restarts[service.name] ?? 0) + 1;
  await saveCounts();
  const line = `${new Date().toISOString()} supervisor: ${service.name} (pid ${deadPid}) was ` +
    `gone; restarted as pid ${recordedPid(service.name)} (restart ${restarts[service.name]})`;
  console.log(line);
  await Deno.writeTextFile(stackPath("logs", `${service.name}.log`), `${line}\n`, { append: true });
}

// With the settings of the env file the stack was started with (stack/env_file.ts), as the start
// gave them to each function.
const fileEnv = (await readFunctionEnvFile()).env;
const functions = (await services(await loadKeys(), fileEnv)).filter((service) =>
  service.name.startsWith("function-")
);
for (const service of functions) restarts[service.name] = 0;
await saveCounts();
console.log(`${new Date().toISOString()} supervisor: watching ${functions.length} functions`);

/**
 * When each recorded pid was first seen alive. Only a process seen alive for STARTED_MS before it
 * died is restarted: one that dies while `deno task stack start` brings it up (a bad setting) is
 * the start's to report, and restarting it here would race the start for its port.
 */
const firstSeen = new Map<string, { pid: number; at: number }>();
const STARTED_MS = 3_000;

for (;;) {
  const recorded = functions.map((service) => ({ service, pid: recordedPid(service.name) }));
  const alive = alivePids(recorded.flatMap(({ pid }) => pid === null ? [] : [pid]));
  for (const { service, pid } of recorded) {
    if (pid === null) continue;
    const seen = firstSeen.get(service.name);
    if (alive.has(pid)) {
      if (seen?.pid !== pid) firstSeen.set(service.name, { pid, at: Date.now() });
      continue;
    }
    if (seen?.pid !== pid || Date.now() - seen.at < STARTED_MS) continue;
    // Read again now that it is dead: `stop` removes the pid file before it signals, so a process
    // stopped on purpose between the read above and the `ps` is not brought back (CI once saw a
    // function stopped by a test restarted here 0.5 s later, with the stack's old settings).
    if (recordedPid(service.name) !== pid) continue;
    try {
      await restart(service, pid);
    } catch (error) {
      console.error(`supervisor: could not restart ${service.name}: ${error}`);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
