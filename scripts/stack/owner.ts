/**
 * Which checkout a running stack belongs to. Two checkouts with the same STACK_PORT_OFFSET share
 * ports, and a stack started by one holds keys the other does not know (every call then fails
 * with "No key matches the token's kid"). The stack's processes name their checkout on their
 * command line (the gateway and functions run `<checkout>/scripts/stack/*.ts`; Postgres runs
 * `-D <checkout>/.stack/postgres/data`), so the holder of each port tells whose stack it is,
 * whatever version of the scripts started it.
 */
import { resolve } from "node:path";
import { PORT_OFFSET, PORTS, PROJECT_ROOT } from "./layout.ts";
import { run, StackError } from "./processes.ts";

/** A stack process holding a port, and the checkout its command line names. */
export interface PortHolder {
  port: number;
  pid: number;
  checkout: string;
}

/** The checkout a stack process's command line names, or null for any other command. */
export function checkoutOf(commandLine: string): string | null {
  for (const word of commandLine.split(/\s+/)) {
    // A path may follow a flag's "=", as in --allow-write=<checkout>/.stack.
    const match = word.match(/^(?:[^=/]*=)?(\/\S*?)\/(?:\.stack|scripts\/stack)(?:\/|$)/);
    if (match?.[1]) return match[1];
  }
  return null;
}

/** The pid listening on each TCP port, from one `ss` call (root sees every user's). */
export function listeners(ssOutput: string): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of ssOutput.split("\n")) {
    const match = line.match(/:(\d+)\s+\S+\s+users:\(\("[^"]*",pid=(\d+)/);
    if (match?.[1] && match[2]) pids.set(Number(match[1]), Number(match[2]));
  }
  return pids;
}

/** The first port of this stack held by another checkout's stack, or null. */
export async function foreignHolder(): Promise<PortHolder | null> {
  const ports = new Set<number>(Object.values(PORTS));
  const { stdout } = await run("ss", ["-Hltnp"], { allowFailure: true });
  const own = resolve(PROJECT_ROOT);
  // Lowest port first: the gateway's, the one users know.
  const held = [...listeners(stdout)].sort(([a], [b]) => a - b);
  for (const [port, pid] of held) {
    // Function ports follow firstFunction; 40 is more than the functions we will ever have.
    const ours = ports.has(port) || (port > PORTS.firstFunction && port < PORTS.firstFunction + 40);
    if (!ours) continue;
    const ps = await run("ps", ["-o", "args=", "-p", String(pid)], { allowFailure: true });
    const checkout = checkoutOf(ps.stdout.trim());
    if (checkout !== null && resolve(checkout) !== own) return { port, pid, checkout };
  }
  return null;
}

/** The message for a stack of another checkout: whose it is and how to stop it. */
export function foreignStackMessage(holder: PortHolder): string {
  const offset = PORT_OFFSET === 0 ? "" : `STACK_PORT_OFFSET=${PORT_OFFSET} `;
  return [
    `The stack on port ${holder.port} (pid ${holder.pid}) belongs to another checkout: ` +
    `${holder.checkout}`,
    "Its keys are not this checkout's, so nothing was run. Either stop it:",
    `  cd ${holder.checkout} && ${offset}bash scripts/stop.sh`,
    "or run this checkout's own stack on other ports, e.g. STACK_PORT_OFFSET=" +
    `${PORT_OFFSET + 1000 > 9000 ? 1000 : PORT_OFFSET + 1000} (see README).`,
  ].join("\n");
}

/** Throws a StackError naming the owner when another checkout's stack holds this stack's ports. */
export async function assertOwnStack(): Promise<void> {
  const holder = await foreignHolder();
  if (holder) throw new StackError(foreignStackMessage(holder));
}
