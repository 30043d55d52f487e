// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * The local stack that stands in for `supabase start` where Docker is missing:
 * PostgreSQL 15 (pg_cron, pg_stat_statements), PostgREST 12, Redis with an Upstash REST endpoint,
 * the Edge Functions and a gateway on port 54321.
 *
 * Usage: deno task stack <start|stop|status|migrate|reset> [--env]
 *   start   install nothing, start whatever is not running, apply pending migrations
 *   stop    stop every process of the stack; the data stays in .stack/
 *   status  print URLs, keys and what is running (--env: as shell variables)
 *   migrate apply pending migrations to the running database (start does it when it starts it)
 *   reset   stop, delete .stack/ (database and keys), start afresh
 */
import { join } from "node:path";
import { loadKeys, type StackKeys } from "./stack/keys.ts";
import {
  BIN_DIR,
  DB_URL,
  GATEWAY_URL,
  PORTS,
  PROJECT_ROOT,
  REPLICA_API_URL,
  REPLICA_DB_URL,
  REPLICA_ENABLED,
  STACK_DIR,
} from "./stack/layout.ts";
import { assertOwnStack } from "./stack/owner.ts";
import * as postgres from "./stack/postgres.ts";
import * as replica from "./stack/replica.ts";
import {
  assertPortFree,
  failureSummary,
  isListening,
  reserveStackPorts,
  run,
  runningPid,
  spawnDetached,
  StackError,
  stopProcess,
  waitFor,
} from "./stack/processes.ts";
import { readFunctionEnvFile } from "./stack/env_file.ts";
import { checkInstalled, REQUIRED_FILES } from "./stack/requirements.ts";
import {
  functionEnv,
  isUp,
  REPLICA_POSTGREST_SERVICE,
  type Service,
  services,
} from "./stack/services.ts";
import { FUNCTION_RSS_LIMIT_MIB, functionMemory } from "./stack/memory.ts";

async function applyMigrations(): Promise<void> {
  const result = await run(join(BIN_DIR, "supabase"), [
    "migration",
    "up",
    "--db-url",
    DB_URL,
    "--workdir",
    PROJECT_ROOT,
  ], { env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" }, allowFailure: true });
  if (result.code !== 0) {
    throw new StackError(`Migrations failed:\n${result.stdout}${result.stderr}`);
  }
}

async function startDatabase(started: string[]): Promise<void> {
  if (await postgres.isRunning()) return;
  await assertPortFree(PORTS.postgres, "PostgreSQL");
  const fresh = !(await postgres.isInitialised());
  if (fresh) {
    console.log("Creating the database cluster in .stack/postgres ...");
    await postgres.initialise();
  }
  await postgres.start();
  started.push("postgres");
  if (fresh) {
    await postgres.psql(await Deno.readTextFile(join(PROJECT_ROOT, "scripts/stack/bootstrap.sql")));
    // pg_cron's launcher can miss an extension created just after the server started and then
    // run no job at all; a restart makes it find the extension at start-up.
    await postgres.stop();
    await postgres.start();
  }
  console.log("Applying migrations with the Supabase CLI ...");
  await applyMigrations();
  if (fresh) {
    await postgres.psql(await Deno.readTextFile(join(PROJECT_ROOT, "supabase/seed.sql")));
  }
}

/** The name `started` and `stop` use for the standby's postmaster. */
const REPLICA = "replica";

/**
 * Starts the read replica (STACK_REPLICA=1): the standby on disk when it can resume streaming,
 * else a new one from a base backup; then waits until it has replayed what the primary has now
 * (the migrations just applied), so its PostgREST loads the current schema.
 */
async function startReplica(started: string[]): Promise<void> {
  if (!(await replica.isRunning())) {
    await assertPortFree(PORTS.replicaPostgres, "the read replica");
    if (!(await replica.canResume())) {
      console.log("Making the read replica in .stack/replica (pg_basebackup) ...");
      await replica.initialise();
    }
    await replica.start();
    started.push(REPLICA);
  }
  const primaryLsn = await postgres.psql("select pg_current_wal_lsn()");
  await waitFor(
    async () =>
      (await replica.psqlReplica(`select pg_last_wal_replay_lsn() >= '${primaryLsn}'`)) === "t",
    60_000,
    "the replica to replay the primary's WAL",
  );
}

async function startService(service: Service, started: string[]): Promise<void> {
  if (runningPid(service.name) !== null && await isUp(service)) return;
  await assertPortFree(service.port, service.name);
  const log = join(STACK_DIR, "logs", `${service.name}.log`);
  // Logs are appended to: only what this start writes tells why it failed.
  const logStart = (await Deno.stat(log).catch(() => null))?.size ?? 0;
  await spawnDetached(service.name, service.command, service.env);
  started.push(service.name);
  // A process that ended (a function whose config is invalid exits at once) will not come up.
  await waitFor(
    async () => runningPid(service.name) === null || await isUp(service),
    60_000,
    service.name,
    false,
  );
  if (runningPid(service.name) === null || !(await isUp(service))) {
    // Reported here: the supervisor is not to start it again with other settings.
    await stopProcess(service.name, 1_000);
    await Deno.remove(join(STACK_DIR, "run", `${service.name}.pid`)).catch(() => {});
    throw new StackError(
      `${service.name} did not start: ${failureSummary(await readFrom(log, logStart))}\n` +
        `(its log: .stack/logs/${service.name}.log)`,
    );
  }
}

async function readFrom(file: string, offset: number): Promise<string> {
  try {
    const bytes = await Deno.readFile(file);
    return new TextDecoder().decode(bytes.subarray(offset));
  } catch {
    return "(no log)";
  }
}

/** The background process that restarts a function process that died (stack/supervisor.ts). */
const SUPERVISOR = "supervisor";

async function startSupervisor(started: string[]): Promise<void> {
  if (runningPid(SUPERVISOR) !== null) return;
  await spawnDetached(SUPERVISOR, [
    Deno.execPath(),
    "run",
    "--quiet",
    "--config",
    join(PROJECT_ROOT, "deno.json"),
    "--allow-run",
    "--allow-read",
    "--allow-write",
    "--allow-net",
    "--allow-env",
    "--allow-sys",
    join(PROJECT_ROOT, "scripts", "stack", "supervisor.ts"),
  ]);
  started.push(SUPERVISOR);
}

/** Restarts per function since the supervisor started, from .stack/restarts.json. */
async function restartCounts(): Promise<Record<string, number>> {
  try {
    return JSON.parse(await Deno.readTextFile(join(STACK_DIR, "restarts.json")));
  } catch {
    return {};
  }
}

async function isFullyRunning(all: Service[]): Promise<boolean> {
  if (!(await postgres.isRunning())) return false;
  if (REPLICA_ENABLED && !(await replica.isRunning())) return false;
  if (runningPid(SUPERVISOR) === null) return false;
  for (const service of all) {
    if (runningPid(service.name) === null || !(await isUp(service))) return false;
  }
  return true;
}

async function start(): Promise<void> {
  await checkInstalled(REQUIRED_FILES);
  await reserveStackPorts(PORTS.gateway, PORTS.firstFunction + 19);
  await Deno.mkdir(STACK_DIR, { recursive: true });
  const keys = await loadKeys();
  const fileEnv = await readFunctionEnvFile();
  const all = await services(keys, fileEnv.env);
  if (await isFullyRunning(all)) {
    console.log("The stack is already running; nothing was changed.\n");
    await status(keys);
    return;
  }
  if (fileEnv.file) {
    const names = Object.keys(fileEnv.env);
    console.log(
      `Function settings from ${fileEnv.file}: ${names.join(", ") || "none"}` +
        fileEnv.skipped.map(({ name, reason }) => `; skipped ${name} (${reason})`).join(""),
    );
  }
  const started: string[] = [];
  try {
    await startDatabase(started);
    if (REPLICA_ENABLED) {
      await startReplica(started);
      // A PostgREST whose database went away retries with a backoff of up to 32 s: one that
      // outlived its standby is started again with it, so reads can return at once.
      if (started.includes(REPLICA)) await stopProcess(REPLICA_POSTGREST_SERVICE);
      // A stack started without a replica: its gateway serves no replica endpoint and its
      // functions were not given one, so they start again with it.
      if (runningPid("gateway") !== null && !(await isListening(PORTS.replicaGateway))) {
        await stopProcess(SUPERVISOR);
        for (const service of all) {
          if (service.name === "gateway" || service.name.startsWith("function-")) {
            await stopProcess(service.name);
          }
        }
      }
    }
    for (const service of all) await startService(service, started);
    await startSupervisor(started);
  } catch (error) {
    console.error("Start failed; stopping what this start had started.");
    for (const name of started.reverse()) {
      if (name === "postgres") await postgres.stop();
      else if (name === REPLICA) await replica.stop();
      else await stopProcess(name);
    }
    throw error;
  }
  console.log("The stack is running.\n");
  await status(keys);
}

/** Stops every process of the stack, including any left from an older function list. */
async function stop(): Promise<void> {
  const stopped: string[] = [];
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(STACK_DIR, "run"))) {
      if (entry.name.endsWith(".pid")) names.push(entry.name.slice(0, -4));
    }
  } catch {
    // nothing was ever started
  }
  // The drone simulator (scripts/simulate_start.ts) and the gateway first, so nothing new
  // arrives; Redis and the database last.
  // The supervisor first of all, or it would start again the functions being stopped.
  if (await stopProcess(SUPERVISOR)) stopped.push(SUPERVISOR);
  if (await stopProcess("simulator")) stopped.push("simulator");
  const order = (name: string) =>
    name === "gateway" ? 0 : name.startsWith("function-") ? 1 : name === "postgrest" ? 2 : 3;
  for (const name of names.sort((a, b) => order(a) - order(b))) {
    if (await stopProcess(name)) stopped.push(name);
  }
  if (await replica.stop()) stopped.push(REPLICA);
  if (await postgres.stop()) stopped.push("postgres");
  console.log(
    stopped.length
      ? `Stopped: ${stopped.join(", ")}. Data kept in .stack/.`
      : "Nothing was running.",
  );
}

async function status(keys: StackKeys, asEnv = false): Promise<void> {
  const env: Record<string, string> = {
    ...functionEnv(keys),
    SUPABASE_URL: GATEWAY_URL,
    API_URL: GATEWAY_URL,
    FUNCTIONS_URL: `${GATEWAY_URL}/functions/v1`,
    DB_URL,
    JWT_SECRET: keys.jwtSecret,
    PUBLISHABLE_KEY: keys.publishableKey,
    SECRET_KEY: keys.secretKey,
  };
  // A replica that runs is listed whether or not this shell set STACK_REPLICA.
  const replicaRunning = await replica.isRunning();
  if (REPLICA_ENABLED || replicaRunning) {
    env.STACK_REPLICA_DB_URL = REPLICA_DB_URL;
    env.SUPABASE_READ_REPLICA_URL = REPLICA_API_URL;
  }
  if (asEnv) {
    for (const [name, value] of Object.entries(env)) console.log(`${name}='${value}'`);
    return;
  }
  const all = await services(keys);
  // The replica's PostgREST is listed when it runs, even from a shell without STACK_REPLICA.
  if (!all.some((service) => service.name === REPLICA_POSTGREST_SERVICE) && replicaRunning) {
    all.push({
      name: REPLICA_POSTGREST_SERVICE,
      port: PORTS.replicaPostgrest,
      command: [],
      env: {},
    });
  }
  const states = [`postgres: ${(await postgres.isRunning()) ? "running" : "stopped"}`];
  if (REPLICA_ENABLED || replicaRunning) {
    const lag = replicaRunning ? await replica.replayLagSeconds() : null;
    states.push(
      `${REPLICA}: ${replicaRunning ? "running" : "stopped"} (port ${PORTS.replicaPostgres}` +
        `, slot ${replica.REPLICATION_SLOT}` +
        (lag === null ? "" : `, replay lag ${lag.toFixed(3)} s`) + ")",
    );
  }
  const memory = await functionMemory();
  const restarts = await restartCounts();
  for (const service of all) {
    const up = runningPid(service.name) !== null && await isUp(service);
    const isFunction = service.name.startsWith("function-");
    // A function's resident memory now and its peak, against the local edge runtime's cap.
    const usage = up ? memory.get(service.name.replace(/^function-/, "")) : undefined;
    const rss = usage
      ? ` (RSS ${usage.rssMib} MiB, peak ${usage.peakMib} MiB of ${FUNCTION_RSS_LIMIT_MIB})`
      : "";
    states.push(
      `${service.name}: ${up ? "running" : "stopped"}${rss}` +
        (isFunction ? `, restarts: ${restarts[service.name] ?? 0}` : ""),
    );
  }
  states.push(`${SUPERVISOR}: ${runningPid(SUPERVISOR) !== null ? "running" : "stopped"}`);
  console.log(
    [
      `         API URL: ${GATEWAY_URL}`,
      `   Functions URL: ${GATEWAY_URL}/functions/v1`,
      `       Dashboard: ${GATEWAY_URL}/dashboard/ (sign in: "Use the local simulator's token",`,
      "                  or paste a token from `deno task jwt:mint <user-id>`)",
      `          DB URL: ${DB_URL}`,
      `      JWT secret: ${keys.jwtSecret}`,
      `Publishable key: ${keys.publishableKey}`,
      `      Secret key: ${keys.secretKey}`,
      `        anon key: ${keys.anonKey}`,
      `service_role key: ${keys.serviceRoleKey}`,
      `            JWKS: ${JSON.stringify(keys.jwks)}`,
      `Upstash REST URL: ${env.UPSTASH_REDIS_REST_URL}`,
      `   Upstash token: ${keys.upstashToken}`,
      ...(env.STACK_REPLICA_DB_URL
        ? [
          `  Replica DB URL: ${env.STACK_REPLICA_DB_URL}`,
          `Replica API URL: ${env.SUPABASE_READ_REPLICA_URL} (/rest/v1, read only)`,
        ]
        : []),
      "",
      ...states,
    ].join("\n"),
  );
}

/**
 * The replica's PostgREST cannot LISTEN for schema reloads on a standby: after migrations, it is
 * told to reload (SIGUSR1) once the standby has replayed them.
 */
async function reloadReplicaSchema(): Promise<void> {
  const pid = runningPid(REPLICA_POSTGREST_SERVICE);
  if (pid === null) return;
  await startReplica([]);
  Deno.kill(pid, "SIGUSR1");
}

async function main(): Promise<number> {
  const [command, flag] = Deno.args;
  try {
    // Every command but stop acts on the processes holding this stack's ports; stop only signals
    // the pids this checkout recorded, so it is safe whoever holds the ports.
    if (command !== "stop") await assertOwnStack();
    switch (command) {
      case "start":
        await start();
        return 0;
      case "stop":
        await stop();
        return 0;
      case "status":
        await status(await loadKeys(), flag === "--env");
        return 0;
      case "migrate":
        await applyMigrations();
        await reloadReplicaSchema();
        console.log("Pending migrations applied.");
        return 0;
      case "reset":
        await stop();
        await Deno.remove(STACK_DIR, { recursive: true }).catch(() => {});
        await start();
        return 0;
      default:
        console.error("Usage: deno task stack <start|stop|status|migrate|reset>");
        return 2;
    }
  } catch (error) {
    if (error instanceof StackError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

Deno.exit(await main());
