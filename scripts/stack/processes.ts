/**
 * Starting, finding and stopping the stack's background processes. Each one runs detached in a
 * session of its own, with its pid in .stack/run/<name>.pid and its output in .stack/logs/.
 */
import { stackPath } from "./layout.ts";

/** A failure the stack reports to the user as it is, without a stack trace. */
export class StackError extends Error {
  override readonly name = "StackError";
}

export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** Runs a command to completion and returns its output; throws with its stderr when it fails. */
export async function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; allowFailure?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(command, {
    args,
    env: options.env ?? {},
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const result = await child.output();
  const decoder = new TextDecoder();
  const out = {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
  if (out.code !== 0 && !options.allowFailure) {
    throw new StackError(`${command} ${args.join(" ")} failed (exit ${out.code}):\n${out.stderr}`);
  }
  return out;
}

/** What holds a TCP port on this machine, as `ss` tells it, or null when the port is free. */
export async function portHolder(port: number): Promise<string | null> {
  try {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    listener.close();
    return null;
  } catch {
    const { stdout } = await run("ss", ["-Hltnp", `sport = :${port}`], { allowFailure: true });
    const process = stdout.match(/users:\(\("([^"]+)",pid=(\d+)/);
    return process ? `${process[1]} (pid ${process[2]})` : "another process";
  }
}

/** Throws a StackError naming the port and its holder when the port is taken. */
export async function assertPortFree(port: number, component: string): Promise<void> {
  // The stack's ports lie in Linux's ephemeral range (32768-60999), so an outgoing connection of
  // any program may hold one for a moment as its local port: only a port taken for two seconds
  // running is refused.
  let holder = await portHolder(port);
  for (let attempt = 0; holder && attempt < 10; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    holder = await portHolder(port);
  }
  if (holder) {
    throw new StackError(
      `Port ${port}, needed by ${component}, is already in use by ${holder}. ` +
        `Stop that process or free the port, then start again.`,
    );
  }
}

/** True when a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  // `ps` rather than /proc/<pid>/stat: Deno grants /proc reads only with --allow-all.
  const result = new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] }).outputSync();
  const state = new TextDecoder().decode(result.stdout).trim();
  return result.success && state !== "" && !state.startsWith("Z");
}

/** The pid recorded for a named process, when that process is still alive. */
export function runningPid(name: string): number | null {
  try {
    const pid = Number(Deno.readTextFileSync(stackPath("run", `${name}.pid`)).trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Starts a command detached from this process (its own session, so a terminal's Ctrl-C or the
 * end of a CI step does not reach it) and records its pid.
 */
export async function spawnDetached(
  name: string,
  command: string[],
  env: Record<string, string> = {},
): Promise<void> {
  await Deno.mkdir(stackPath("run"), { recursive: true });
  await Deno.mkdir(stackPath("logs"), { recursive: true });
  const pidFile = stackPath("run", `${name}.pid`);
  const logFile = stackPath("logs", `${name}.log`);
  // bash writes its own pid and then becomes the command through exec, so the pid is the command's.
  const script = `p="$0"; l="$1"; shift; echo $$ > "$p"; exec "$@" >> "$l" 2>&1`;
  // A pid file left by a process that died (a failed start) would pass for the new one's.
  await Deno.remove(pidFile).catch(() => {});
  const launcher = new Deno.Command("setsid", {
    args: ["-f", "bash", "-c", script, pidFile, logFile, ...command],
    env: { ...Deno.env.toObject(), ...env },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  const status = await launcher.output();
  if (status.code !== 0) throw new StackError(`Could not start ${name}`);
  // The pid file is written before the command runs; a command that fails at once may be gone
  // by the time it is read, which the caller tells from its log (see failureSummary).
  await waitFor(() => pidFileExists(pidFile), 5_000, `${name}'s pid file`);
}

function pidFileExists(file: string): boolean {
  try {
    return Deno.readTextFileSync(file).trim() !== "";
  } catch {
    return false;
  }
}

/**
 * The line of a process's output that says why it stopped: the last uncaught error (e.g.
 * `ConfigError: Invalid environment: …`), without Deno's colours; else the last 15 lines.
 */
export function failureSummary(output: string): string {
  // deno-lint-ignore no-control-regex -- the escape sequences of terminal colours
  const lines = output.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((line) => line.trimEnd());
  const errors = lines.flatMap((line) => {
    const match = line.match(/^(?:error: Uncaught (?:\(in promise\) )?)?([A-Z]\w*Error): (.+)$/);
    return match ? [`${match[1]}: ${match[2]}`] : [];
  });
  return errors.at(-1) ?? lines.filter((line) => line !== "").slice(-15).join("\n");
}

/** Stops a named process: SIGTERM to its session, then SIGKILL if it lingers. */
export async function stopProcess(name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(name);
  if (pid === null) return false;
  // The pid file goes first: the supervisor (stack/supervisor.ts) restarts a process whose pid
  // file names a dead one, and this one is stopped on purpose.
  await Deno.remove(stackPath("run", `${name}.pid`)).catch(() => {});
  signalGroup(pid, "SIGTERM");
  const stopped = await waitFor(() => !isAlive(pid), graceMs, `${name} to stop`, false);
  if (!stopped) {
    signalGroup(pid, "SIGKILL");
    await waitFor(() => !isAlive(pid), 5_000, `${name} to die`, false);
  }
  await Deno.remove(stackPath("run", `${name}.pid`)).catch(() => {});
  return true;
}

function signalGroup(pid: number, signal: Deno.Signal): void {
  // setsid made the process a session and group leader: signalling -pid reaches its children too.
  for (const target of [-pid, pid]) {
    try {
      Deno.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

/** Polls a condition until it holds or the time runs out. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  throwOnTimeout = true,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (throwOnTimeout) throw new StackError(`Timed out waiting for ${what}`);
  return false;
}

/** True when something accepts TCP connections on the port. */
export async function isListening(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Keeps the kernel from lending the ports `first`..`last` to outgoing connections: they lie in
 * Linux's ephemeral range (32768-60999), and a client socket that used one as its local port
 * holds it in TIME-WAIT for a minute, which makes the stack's own start fail. Best effort: only
 * root may change net.ipv4.ip_local_reserved_ports, and where it cannot, nothing changes.
 */
export async function reserveStackPorts(first: number, last: number): Promise<void> {
  if (!isRoot()) return;
  const key = "net.ipv4.ip_local_reserved_ports";
  const current = await run("sysctl", ["-n", key], { allowFailure: true });
  if (current.code !== 0) return;
  const ranges = current.stdout.trim();
  const range = `${first}-${last}`;
  if (ranges.split(",").includes(range)) return;
  await run("sysctl", ["-q", "-w", `${key}=${ranges ? `${ranges},` : ""}${range}`], {
    allowFailure: true,
  });
}
