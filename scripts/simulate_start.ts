// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Starts `deno task simulate` in the background for the local stack (scripts/dev.sh calls it),
 * with its pid in .stack/run/simulator.pid, so `deno task stack stop` stops it with the stack,
 * and its output in .stack/logs/simulator.log. Does nothing when it already runs.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "./stack/layout.ts";
import { runningPid, spawnDetached } from "./stack/processes.ts";

const running = runningPid("simulator");
if (running !== null) {
  console.log(`The drone simulator is already running (pid ${running}).`);
} else {
  await spawnDetached("simulator", [
    Deno.execPath(),
    "run",
    "--allow-run",
    "--allow-read",
    "--allow-write",
    "--allow-net",
    "--allow-env",
    "--allow-sys",
    join(PROJECT_ROOT, "scripts", "simulate.ts"),
  ]);
  console.log(
    "Simulated drones are flying (log: .stack/logs/simulator.log). SIMULATE=0 scripts/dev.sh " +
      "starts without them; scripts/stop.sh stops them with the stack.",
  );
}
