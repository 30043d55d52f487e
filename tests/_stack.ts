/**
 * Stopping and starting parts of the running local stack from tests, as a crash or an operator
 * would: a process is signalled by the pid the stack recorded in .stack/run/, and brought back
 * by `deno task stack start`, which starts whatever is down and leaves the rest alone.
 */
import { PROJECT_ROOT } from "../scripts/stack/layout.ts";
import { isAlive, runningPid, waitFor } from "../scripts/stack/processes.ts";

/**
 * Sends a signal to a stack process (e.g. "postgrest") by the pid in .stack/run/ and waits until
 * it is gone. SIGKILL is a crash: no cleanup, connections cut mid-request.
 */
export async function killComponent(name: string, signal: Deno.Signal = "SIGKILL"): Promise<void> {
  const pid = runningPid(name);
  if (pid === null) throw new Error(`${name} is not running`);
  Deno.kill(pid, signal);
  await waitFor(() => !isAlive(pid), 10_000, `${name} (pid ${pid}) to end`);
}

/** Starts whatever part of the stack is down (`deno task stack start`) and waits for it. */
export async function startStack(): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "stack", "start"],
    cwd: PROJECT_ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno task stack start failed: ${new TextDecoder().decode(stderr)}`);
  }
}
