// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Runs every suite in order and ends with one line, "N passed, N failed", over all of them:
 * static checks (fmt, lint, type check), unit tests, the repository's layout and deploy checks, then on the local stack the pgTAP tests,
 * the flush concurrency tests, the end-to-end tests through the gateway, the fault suite, the
 * dashboard in headless Chromium, the stack's own start/stop behaviour, and last the read
 * replica's suite on the same stack restarted with STACK_REPLICA=1 (unless it has one already).
 * This checkout's stack, when already running, is used as it is and left running (another
 * checkout's stack on the same ports stops the run before anything); otherwise one is started
 * (a fresh database on a clean checkout) and stopped at the end.
 */
import { join } from "node:path";
import { loadKeys } from "./stack/keys.ts";
import { DB_PASSWORD, GATEWAY_URL, PORTS, PROJECT_ROOT } from "./stack/layout.ts";
import { foreignHolder, foreignStackMessage } from "./stack/owner.ts";
import { isListening, stopProcess } from "./stack/processes.ts";
import * as postgres from "./stack/postgres.ts";
import * as replica from "./stack/replica.ts";
import { functionEnv } from "./stack/services.ts";
import { logExcerpt, logSizes } from "./stack/log_excerpt.ts";
import { FUNCTION_RSS_LIMIT_MIB, functionPids, PeakTracker, resetPeaks } from "./stack/memory.ts";

interface SuiteResult {
  suite: string;
  passed: number;
  failed: number;
}

const deno = Deno.execPath();
const results: SuiteResult[] = [];

async function runStep(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    collect(child.stdout, Deno.stdout),
    collect(child.stderr, Deno.stderr),
  ]);
  return { code: status.code, output };
}

/** A check that passes or fails as a whole (formatting, lint, type check, stack start). */
async function check(
  suite: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<boolean> {
  console.log(`\n=== ${suite}`);
  const { code } = await runStep(command, args, env);
  results.push({ suite, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 });
  return code === 0;
}

/** Counts from Deno's closing line, e.g. "ok | 12 passed (40 steps) | 0 failed". */
export function denoCounts(output: string): { passed: number; failed: number } | null {
  const line = output.split("\n").reverse().find((l) => /\d+ passed.*\d+ failed/.test(l));
  if (!line) return null;
  const count = (word: string) => {
    const match = line.match(new RegExp(`(\\d+) ${word}(?: \\((\\d+) steps?\\))?`));
    return match ? Number(match[1]) + Number(match[2] ?? 0) : 0;
  };
  return { passed: count("passed"), failed: count("failed") };
}

/** Counts from prove's summary: "Tests=N" and each "Failed X/Y subtests". */
export function proveCounts(output: string, code: number): { passed: number; failed: number } {
  const total = Number(output.match(/Tests=(\d+)/)?.[1] ?? 0);
  let failed = 0;
  for (const match of output.matchAll(/Failed (\d+)\/\d+ subtests/g)) failed += Number(match[1]);
  if (code !== 0 && failed === 0) failed = 1; // a file died or its plan was wrong
  return { passed: Math.max(total - failed, 0), failed };
}

async function denoSuite(suite: string, args: string[], env: Record<string, string> = {}) {
  console.log(`\n=== ${suite}`);
  const logsBefore = await logSizes();
  const { code, output } = await runStep(deno, args, env);
  const counts = denoCounts(output) ?? { passed: 0, failed: 1 };
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  results.push({ suite, ...counts });
  if (counts.failed > 0) {
    const excerpt = await logExcerpt(logsBefore);
    if (excerpt) console.log(`\n=== what the stack's logs said during ${suite}\n${excerpt}`);
  }
}

async function proveSuite(suite: string, command: string, args: string[]) {
  console.log(`\n=== ${suite}`);
  const env = {
    PGHOST: "127.0.0.1",
    PGPORT: String(PORTS.postgres),
    PGUSER: "postgres",
    PGDATABASE: "postgres",
    PGPASSWORD: DB_PASSWORD,
  };
  const { code, output } = await runStep(command, args, env);
  results.push({ suite, ...proveCounts(output, code) });
}

async function listFiles(dir: string, suffix: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      if (entry.isDirectory) await walk(child);
      else if (entry.name.endsWith(suffix)) files.push(child);
    }
  };
  await walk(join(PROJECT_ROOT, dir)).catch(() => {});
  return files.sort();
}

const stackTask = (command: string) => ["task", "--quiet", "stack", command];

// Another checkout's stack on our ports would fail every end-to-end test on its keys: say whose
// it is before running anything.
const foreign = await foreignHolder();
if (foreign) {
  console.error(foreignStackMessage(foreign));
  Deno.exit(1);
}

await check("deno fmt --check", deno, ["fmt", "--check"]);
await check("deno lint", deno, ["lint"]);
await check("deno check", deno, ["task", "--quiet", "check"]);
await denoSuite("unit tests", ["task", "--quiet", "test"]);
// The layout rules and the offline deploy check need no stack.
await denoSuite("repository", ["task", "--quiet", "test:repo"]);

const stackWasRunning = await isListening(PORTS.gateway);
// Without a replica, whatever the shell says: the replica's suite restarts the stack with one.
const stackUp = stackWasRunning ||
  await check("stack start", deno, stackTask("start"), { STACK_REPLICA: "" });
// The background simulator of scripts/dev.sh would stage frames while the flush tests count
// what is staged: pause it for the run and start it again at the end.
const simulatorWasRunning = stackWasRunning && await stopProcess("simulator");
// Every function process's peak resident set over the suites, read after each (a suite may
// restart processes); a stack that was already running starts its peaks afresh, so what ran
// before (a benchmark) is not counted.
const memory = new PeakTracker();
if (stackUp) {
  if (stackWasRunning) await resetPeaks([...functionPids().values()]);
  // The test helpers live in seed.sql, loaded when a stack is created: load the current ones
  // into a stack that was already running.
  if (stackWasRunning) {
    await postgres.psql(await Deno.readTextFile(join(PROJECT_ROOT, "supabase/seed.sql")));
  }
  await proveSuite("pgTAP", "pg_prove", ["--ext", ".sql", "-r", "supabase/tests"]);
  await memory.observe();
  const scripts = await listFiles("supabase/tests", ".sh");
  if (scripts.length > 0) await proveSuite("flush concurrency", "prove", ["-v", ...scripts]);
  await memory.observe();
  const keys = await loadKeys();
  const stackEnv = {
    ...functionEnv(keys),
    SUPABASE_URL: GATEWAY_URL,
    PUBLISHABLE_KEY: keys.publishableKey,
    SECRET_KEY: keys.secretKey,
  };
  await denoSuite("end-to-end", ["task", "--quiet", "test:integration"], stackEnv);
  await memory.observe();
  // Kills and restarts parts of the stack, and leaves it whole for the suites after it.
  await denoSuite("faults", ["task", "--quiet", "test:faults"], stackEnv);
  await memory.observe();
  // The dashboard in headless Chromium, with a bounded simulator run of its own.
  await denoSuite("browser", ["task", "--quiet", "test:browser"]);
  await memory.observe();
  await denoSuite("stack lifecycle", ["task", "--quiet", "test:stack"]);
  await memory.observe();
  // Last, as it restarts the stack: the read replica's suite (tests/replica) on the same data with
  // a standby and the functions reading through it; every suite above ran without a replica.
  const replicaWasRunning = await replica.isRunning();
  const withReplica = { STACK_REPLICA: "1" };
  const replicaUp = replicaWasRunning ||
    (await check("stack stop", deno, stackTask("stop")) &&
      await check("stack start with a replica", deno, stackTask("start"), withReplica));
  if (replicaUp) {
    await denoSuite("replica", ["task", "--quiet", "test:replica"], {
      ...stackEnv,
      ...withReplica,
    });
    await memory.observe();
  }
  // A stack that was running without a replica is left as it was found.
  if (stackWasRunning && !replicaWasRunning) {
    await check("stack stop", deno, stackTask("stop"));
    await check("stack start", deno, stackTask("start"), { STACK_REPLICA: "" });
  }
}
if (stackUp) {
  // The CLI's local edge runtime kills a worker past 150 MB with every request in it.
  console.log(
    `\n=== function memory (peak RSS of each function process, cap ${FUNCTION_RSS_LIMIT_MIB} MiB)`,
  );
  for (const [name, peak] of memory.highest) console.log(`${name.padEnd(24)} ${peak} MiB`);
  const over = memory.over();
  for (const [name, peak] of over) {
    console.log(`FAILED: ${name} reached ${peak} MiB, over ${FUNCTION_RSS_LIMIT_MIB} MiB`);
  }
  const read = memory.highest.size > 0;
  if (!read) console.log("FAILED: no function process's memory could be read");
  results.push({
    suite: "function memory",
    passed: read && over.length === 0 ? 1 : 0,
    failed: read && over.length === 0 ? 0 : 1,
  });
}
if (!stackWasRunning) await check("stack stop", deno, stackTask("stop"));
if (simulatorWasRunning) await runStep(deno, ["task", "--quiet", "simulate:start"]);

console.log("\n=== summary");
for (const { suite, passed, failed } of results) {
  console.log(`${suite.padEnd(20)} ${passed} passed, ${failed} failed`);
}
const passed = results.reduce((sum, result) => sum + result.passed, 0);
const failed = results.reduce((sum, result) => sum + result.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
