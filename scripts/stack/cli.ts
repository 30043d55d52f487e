// deno-lint-ignore-file no-console -- command-line tools: the console is their output
/**
 * What the stack's small command-line tools (device:create, jwt:mint) share: a clear line instead
 * of a stack trace when the stack is down, and the stack's default operator, so that the devices
 * `device:create` makes and the token `jwt:mint` prints belong to the same user.
 */
import { PORT_OFFSET, PORTS, stackPath } from "./layout.ts";
import { isListening, StackError } from "./processes.ts";

/** The user that owns what the tools make when no --owner is given; one per stack (.stack/). */
export async function defaultOperatorId(): Promise<string> {
  const file = stackPath("operator.json");
  try {
    const stored: unknown = JSON.parse(await Deno.readTextFile(file));
    if (
      typeof stored === "object" && stored !== null && "userId" in stored &&
      typeof stored.userId === "string"
    ) {
      return stored.userId;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound) && !(error instanceof SyntaxError)) throw error;
  }
  const userId = crypto.randomUUID();
  await Deno.mkdir(stackPath(), { recursive: true });
  await Deno.writeTextFile(file, JSON.stringify({ userId }, null, 2) + "\n");
  return userId;
}

/**
 * Throws a StackError saying how to start the stack when its database or gateway is not answering.
 * @throws {StackError} naming the port that does not answer
 */
export async function requireRunningStack(): Promise<void> {
  const offset = PORT_OFFSET === 0 ? "" : `STACK_PORT_OFFSET=${PORT_OFFSET} `;
  for (const [what, port] of [["database", PORTS.postgres], ["gateway", PORTS.gateway]] as const) {
    if (!(await isListening(port))) {
      throw new StackError(
        `The local stack is not running (no ${what} on port ${port}); start it with: ` +
          `${offset}bash scripts/dev.sh`,
      );
    }
  }
}

/** Runs a tool's main and exits with its status; a StackError is printed as one line. */
export async function runTool(main: () => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (error) {
    if (!(error instanceof StackError)) throw error;
    console.error(error.message);
    Deno.exit(1);
  }
}
