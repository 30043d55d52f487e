/**
 * The stack's command-line tools as a newcomer meets them (README, Try it): `device:create` and
 * `jwt:mint` print help, say in one line that the stack is down, share the stack's operator, and
 * mint tokens whose `iss` names this stack's port; `deno task stack start` reads the functions'
 * env file and names every bad setting in it. Runs on the running stack and leaves it running.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { loadKeys } from "../../scripts/stack/keys.ts";
import { GATEWAY_URL, PORT_OFFSET, PROJECT_ROOT } from "../../scripts/stack/layout.ts";
import { isListening, stopProcess } from "../../scripts/stack/processes.ts";

async function task(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1", ...env },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.trim().split(".")[1] ?? "";
  return JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/")));
}

function shellVars(text: string): Record<string, string> {
  return Object.fromEntries(
    text.trim().split("\n").map((line) => [line.split("=")[0], line.slice(line.indexOf("=") + 1)]),
  );
}

Deno.test("jwt:mint and device:create --help print their usage and mint or make nothing", async () => {
  for (const tool of ["jwt:mint", "device:create"]) {
    const { code, stdout, stderr } = await task([tool, "--help"]);
    assertEquals([tool, code, stderr], [tool, 0, ""]);
    assertMatch(stdout, new RegExp(`^Usage: deno task ${tool}`));
    assert(!stdout.includes("eyJ"), `${tool} --help printed a token`);
  }
  assertStringIncludes((await task(["device:create", "--help"])).stdout, "--owner USER_ID");
});

Deno.test("device:create makes every device for the stack's operator, whom jwt:mint mints for", async () => {
  const first = shellVars((await task(["device:create", "tools-test-1", "--env"])).stdout);
  const second = shellVars((await task(["device:create", "tools-test-2", "--env"])).stdout);
  assertEquals(first.OWNER_ID, second.OWNER_ID);
  assert(first.DEVICE_ID !== second.DEVICE_ID);
  const minted = await task(["jwt:mint"]);
  assertEquals(minted.code, 0, minted.stderr);
  assertEquals(claimsOf(minted.stdout).sub, first.OWNER_ID);
  // The operator's token lists both devices.
  const answer = await fetch(`${GATEWAY_URL}/functions/v1/devices`, {
    headers: { authorization: `Bearer ${minted.stdout.trim()}` },
  });
  const listed = (await answer.json()).devices.map((device: { id: string }) => device.id);
  assert(listed.includes(first.DEVICE_ID) && listed.includes(second.DEVICE_ID));
  // --new-owner and --owner choose another.
  const other = shellVars(
    (await task(["device:create", "tools-test-3", "--new-owner", "--env"]))
      .stdout,
  );
  assert(other.OWNER_ID !== first.OWNER_ID);
  const named = shellVars(
    (await task(["device:create", "tools-test-4", "--owner", other.OWNER_ID ?? "", "--env"]))
      .stdout,
  );
  assertEquals(named.OWNER_ID, other.OWNER_ID);
});

Deno.test("minted tokens name this stack's port in iss, legacy ones too", async () => {
  for (const args of [["jwt:mint"], ["jwt:mint", "--legacy"]]) {
    const { code, stdout } = await task(args);
    assertEquals(code, 0);
    assertEquals(claimsOf(stdout).iss, `${GATEWAY_URL}/auth/v1`);
  }
  assertStringIncludes(GATEWAY_URL, String(54321 + PORT_OFFSET));
});

Deno.test("device:create and jwt:mint say in one line that the stack is down", async () => {
  // An offset where nothing listens: the tools' view of a stack that is not running.
  let offset = 8900;
  while (await isListening(54322 + offset)) offset -= 100;
  for (const args of [["device:create", "my-drone"], ["jwt:mint"]]) {
    const { code, stdout, stderr } = await task(args, { STACK_PORT_OFFSET: String(offset) });
    assertEquals([args[0], code, stdout], [args[0], 1, ""]);
    assertEquals(
      stderr,
      `The local stack is not running (no database on port ${54322 + offset}); start it with: ` +
        `STACK_PORT_OFFSET=${offset} bash scripts/dev.sh\n`,
    );
  }
});

Deno.test("stack start reads the functions' env file and names every bad setting in it", async () => {
  const file = await Deno.makeTempFile({ suffix: ".env" });
  const config = async () => {
    const keys = await loadKeys();
    const answer = await fetch(`${GATEWAY_URL}/functions/v1/config`, {
      headers: { apikey: keys.publishableKey },
    });
    return (await answer.json()).limits.max_lines;
  };
  try {
    await Deno.writeTextFile(file, "TELEMETRY_MAX_LINES=abc\nexport TELEMETRY_MAX_RETRIES=-1\n");
    await stopProcess("function-config");
    const started = performance.now();
    const failed = await task(["stack", "start"], { STACK_ENV_FILE: file });
    assertEquals(failed.code, 1);
    assertMatch(
      failed.stderr,
      /function-config did not start: ConfigError: Invalid environment: TELEMETRY_MAX_LINES: [^;]+; TELEMETRY_MAX_RETRIES: /,
    );
    // A function that exits at once is reported at once, not after the start's time-out.
    assert(performance.now() - started < 30_000);

    await Deno.writeTextFile(file, "# limits\nTELEMETRY_MAX_LINES=77\nSUPABASE_URL=http://x\n");
    const ok = await task(["stack", "start"], { STACK_ENV_FILE: file });
    assertEquals(ok.code, 0, ok.stderr);
    assertStringIncludes(
      ok.stdout,
      `Function settings from ${file}: TELEMETRY_MAX_LINES; skipped SUPABASE_URL (the local stack sets it)`,
    );
    assertEquals(await config(), 77);
  } finally {
    await stopProcess("function-config");
    await task(["stack", "start"]);
    await Deno.remove(file);
  }
  assertEquals(await config(), 10_000);
});
