/**
 * A stack function process's memory as the kernel counts it: VmHWM (peak resident set) from
 * /proc/<pid>/status, and its reset (`5` into /proc/<pid>/clear_refs, Linux 4.0+) so a test
 * measures the peak of its own load only. Through `sh`, since Deno reads and writes /proc only
 * with --allow-all.
 */
import { runningPid } from "../scripts/stack/processes.ts";
import { keepPeakThenReset } from "../scripts/stack/memory.ts";

function pidOf(functionName: string): number {
  const pid = runningPid(`function-${functionName}`);
  if (pid === null) throw new Error(`function-${functionName} is not running`);
  return pid;
}

async function sh(script: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("sh", { args: ["-c", script] }).output();
  const decoder = new TextDecoder();
  if (code !== 0) throw new Error(`sh -c ${script}: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

/**
 * Sets the function process's VmHWM back to its current resident size, keeping the peak so far
 * for scripts/test.sh's memory check.
 */
export async function resetPeakRss(functionName: string): Promise<void> {
  await keepPeakThenReset(functionName);
}

/** The function process's peak resident size (VmHWM) in MB (MiB), rounded. */
export async function functionPeakRssMb(functionName: string): Promise<number> {
  const status = await sh(`cat /proc/${pidOf(functionName)}/status`);
  const kb = Number(status.match(/VmHWM:\s+(\d+)/)?.[1]);
  if (!Number.isFinite(kb)) throw new Error("no VmHWM in /proc/<pid>/status");
  return Math.round(kb / 1024);
}
