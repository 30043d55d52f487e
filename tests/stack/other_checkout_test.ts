/**
 * A second checkout meets a stack another checkout started on the same ports: dev.sh, test.sh
 * and `stack status` stop before running anything and name the owner and the command that stops
 * it, instead of 37 end-to-end failures on keys that do not match. The other checkout is a copy
 * of this one in a temporary folder, running its real gateway on a free STACK_PORT_OFFSET (the
 * gateway alone: it is the port test.sh looks at, and starting it takes a second).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/stack/layout.ts";
import { isListening, waitFor } from "../../scripts/stack/processes.ts";

const BASE_GATEWAY = 54321;
/** Set for the commands this test runs: were the check broken, test.sh would run this test again. */
const NESTED = "OTHER_CHECKOUT_TEST_NESTED";
const BASE_FIRST_FUNCTION = 54340;

/** An offset none of whose ports is taken, away from the ones engineers use by hand. */
async function freeOffset(): Promise<number> {
  for (let offset = 8900; offset >= 7000; offset -= 100) {
    let free = true;
    for (let port = BASE_GATEWAY; port < BASE_FIRST_FUNCTION + 20 && free; port++) {
      free = !(await isListening(port + offset));
    }
    if (free) return offset;
  }
  throw new Error("No free STACK_PORT_OFFSET between 7000 and 8900");
}

/** A copy of what the gateway needs, as another clone of the project would have it. */
async function copyCheckout(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "other-checkout-" });
  const parts = [
    "deno.json",
    "import_map.json",
    "deno.lock",
    "shared",
    "scripts/stack",
    "supabase/config.toml",
    "supabase/functions",
  ];
  for (const part of parts) {
    const target = join(dir, part);
    await Deno.mkdir(join(target, ".."), { recursive: true });
    const copy = await new Deno.Command("cp", { args: ["-r", join(PROJECT_ROOT, part), target] })
      .output();
    assert(copy.success, new TextDecoder().decode(copy.stderr));
  }
  return dir;
}

async function run(command: string, args: string[], offset: number) {
  const result = await new Deno.Command(command, {
    args,
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1", STACK_PORT_OFFSET: String(offset), [NESTED]: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

Deno.test({
  name: "stack status, dev.sh and test.sh name another checkout's stack and stop",
  ignore: Deno.env.get(NESTED) === "1",
}, async () => {
  const offset = await freeOffset();
  const other = await copyCheckout();
  const gateway = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      join(other, "deno.json"),
      "--allow-net",
      "--allow-read",
      `--allow-write=${join(other, ".stack")}`,
      "--allow-env",
      join(other, "scripts", "stack", "gateway.ts"),
    ],
    env: { STACK_PORT_OFFSET: String(offset) },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor(() => isListening(BASE_GATEWAY + offset), 30_000, "the other gateway");
    const stopCommand = `cd ${other} && STACK_PORT_OFFSET=${offset} bash scripts/stop.sh`;
    const commands: [string, string[]][] = [
      [Deno.execPath(), ["task", "--quiet", "stack", "status"]],
      ["bash", ["scripts/dev.sh"]],
      ["bash", ["scripts/test.sh"]],
    ];
    for (const [command, args] of commands) {
      const { code, output } = await run(command, args, offset);
      const name = args.join(" ");
      assertEquals([name, code], [name, 1], output);
      assertMatch(output, new RegExp(`belongs to another checkout: ${other}\\n`));
      assertStringIncludes(output, stopCommand);
      // Nothing ran: no suite started, no process of this checkout took a port.
      assert(!output.includes("==="), output);
    }
    assertEquals(await isListening(BASE_GATEWAY + 1 + offset), false, "dev.sh started Postgres");
  } finally {
    gateway.kill("SIGTERM");
    await gateway.status;
    await Deno.remove(other, { recursive: true });
  }
});
