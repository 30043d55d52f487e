/**
 * The local stack restarts a function process that died, as the hosted platform starts a new
 * isolate: kill -9 of a function's process, and within seconds the next requests succeed, the
 * restart is logged, and `deno task stack status` counts it.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { PROJECT_ROOT, stackPath } from "../../scripts/stack/layout.ts";
import { runningPid, waitFor } from "../../scripts/stack/processes.ts";
import { killComponent } from "../_stack.ts";
import { callFunction } from "../integration/_helpers.ts";

async function restartsInStatus(name: string): Promise<number> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "stack", "status"],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const line = new TextDecoder().decode(stdout).split("\n").find((l) => l.startsWith(`${name}:`));
  const count = line?.match(/restarts: (\d+)/)?.[1];
  if (count === undefined) throw new Error(`no restarts for ${name} in stack status: ${line}`);
  return Number(count);
}

async function healthAnswers(): Promise<boolean> {
  try {
    const response = await callFunction("health", { signal: AbortSignal.timeout(3_000) });
    await response.body?.cancel();
    return response.status === 200 || response.status === 503;
  } catch {
    return false;
  }
}

Deno.test("a function process killed with SIGKILL is restarted, logged and counted", async () => {
  const name = "function-health";
  const before = await restartsInStatus(name);
  const pid = runningPid(name);
  await killComponent(name, "SIGKILL");
  const killedAt = performance.now();
  await waitFor(async () => runningPid(name) !== null && await healthAnswers(), 15_000, name);
  const seconds = (performance.now() - killedAt) / 1000;
  // deno-lint-ignore no-console -- the figure the issue asks for, in the test log
  console.log(`${name} answered again ${seconds.toFixed(1)} s after kill -9`);
  assert(runningPid(name) !== pid);
  assertEquals(await restartsInStatus(name), before + 1);
  const log = await Deno.readTextFile(stackPath("logs", "supervisor.log"));
  assertMatch(log, new RegExp(`${name} \\(pid ${pid}\\) was gone; restarted as pid \\d+`));
});

Deno.test("a function stopped on purpose stays stopped until the stack starts it", async () => {
  // `stop` removes the pid file, which is what tells the supervisor to leave it alone.
  const name = "function-health";
  const pid = runningPid(name);
  if (pid === null) throw new Error(`${name} is not running`);
  await Deno.remove(stackPath("run", `${name}.pid`));
  Deno.kill(pid, "SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assertEquals(runningPid(name), null);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "stack", "start"],
    cwd: PROJECT_ROOT,
    stdout: "null",
  }).output();
  assertEquals(code, 0);
  assert(await healthAnswers());
});
