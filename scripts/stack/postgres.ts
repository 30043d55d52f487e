/**
 * PostgreSQL 15 from Debian's packages in a project-local data folder, configured like Supabase's
 * image for what this project needs (pg_cron, pg_stat_statements) and tuned for a write-heavy load.
 * initdb and postgres refuse to run as root, so a root caller runs them as the `postgres` user.
 */
import { join } from "node:path";
import { DB_PASSWORD, PG_BIN_DIR, PORTS, PROJECT_ROOT, stackPath } from "./layout.ts";
import { isRoot, run, StackError, waitFor } from "./processes.ts";

const PG_USER = "postgres";

/** Settings beyond initdb's defaults. The write-heavy ones are explained in README. */
const SETTINGS: Record<string, string> = {
  "listen_addresses": "127.0.0.1",
  port: String(PORTS.postgres),
  "unix_socket_directories": "",
  "shared_preload_libraries": "pg_cron,pg_stat_statements",
  "cron.database_name": "postgres",
  // pg_cron runs jobs in background workers instead of opening libpq connections to itself.
  "cron.use_background_workers": "on",
  "max_worker_processes": "32",
  "pg_stat_statements.track": "all",
  "shared_buffers": "512MB",
  "wal_buffers": "16MB",
  "max_wal_size": "4GB",
  "checkpoint_timeout": "15min",
  "checkpoint_completion_target": "0.9",
  // Commits stay durable (fsync and synchronous_commit stay on): accepted means durable.
  "wal_compression": "on",
  "work_mem": "16MB",
  "maintenance_work_mem": "256MB",
  "effective_cache_size": "4GB",
  "random_page_cost": "1.1",
  "autovacuum_vacuum_scale_factor": "0.05",
  "autovacuum_analyze_scale_factor": "0.02",
  "max_connections": "100",
  "log_min_duration_statement": "1000",
};

/** The data folder. A root caller's `postgres` user must reach it; see dataDir(). */
export function dataDir(): string {
  return stackPath("postgres", "data");
}

function asPgUser(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ["runuser", ["-u", PG_USER, "--", command, ...args]] : [command, args];
}

/** Runs one of PostgreSQL's programs, as the `postgres` user when the caller is root. */
export async function pgRun(command: string, args: string[], stdin?: string) {
  const [cmd, cmdArgs] = asPgUser(join(PG_BIN_DIR, command), args);
  return await run(cmd, cmdArgs, stdin === undefined ? {} : { stdin });
}

/** One of the stack's Postgres clusters: the primary, or the read replica's standby. */
export interface Cluster {
  /** As waits and errors name it. */
  name: string;
  dataDir: string;
  port: number;
  logFile: string;
}

/** The stack's database. */
export const PRIMARY: Cluster = {
  name: "PostgreSQL",
  dataDir: dataDir(),
  port: PORTS.postgres,
  logFile: stackPath("postgres", "postgres.log"),
};

/** Tells whether the cluster has been created. */
export async function clusterExists(cluster: Cluster): Promise<boolean> {
  try {
    await Deno.stat(join(cluster.dataDir, "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

/** Starts the cluster's server and waits until it accepts connections. */
export async function startCluster(cluster: Cluster): Promise<void> {
  // The port is given at each start, not only in the cluster's settings: STACK_PORT_OFFSET may
  // differ from the one the cluster was created with.
  await pgRun("pg_ctl", [
    "-D",
    cluster.dataDir,
    "-l",
    cluster.logFile,
    "-o",
    `-p ${cluster.port}`,
    "-w",
    "-t",
    "60",
    "start",
  ]);
  await waitFor(
    async () => (await psqlRaw("select 1", cluster.port)).code === 0,
    30_000,
    cluster.name,
  );
}

/** Stops the cluster's server (fast shutdown: sessions end, committed data stays). */
export async function stopCluster(cluster: Cluster): Promise<boolean> {
  if (!(await clusterRunning(cluster))) return false;
  await pgRun("pg_ctl", ["-D", cluster.dataDir, "-m", "fast", "-w", "stop"]);
  return true;
}

/** True when the cluster's postmaster is running. */
export async function clusterRunning(cluster: Cluster): Promise<boolean> {
  if (!(await clusterExists(cluster))) return false;
  const [cmd, args] = asPgUser(join(PG_BIN_DIR, "pg_ctl"), ["-D", cluster.dataDir, "status"]);
  return (await run(cmd, args, { allowFailure: true })).code === 0;
}

/** Tells whether the primary has been created. */
export function isInitialised(): Promise<boolean> {
  return clusterExists(PRIMARY);
}

/** Creates the cluster: initdb with the postgres superuser's password, then our settings. */
export async function initialise(): Promise<void> {
  const dir = dataDir();
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (isRoot()) {
    await run("chown", ["-R", `${PG_USER}:${PG_USER}`, stackPath("postgres")]);
    const reach = await run("runuser", ["-u", PG_USER, "--", "test", "-w", dir], {
      allowFailure: true,
    });
    if (reach.code !== 0) {
      throw new StackError(
        `The "${PG_USER}" user cannot write ${dir}: a folder above ${PROJECT_ROOT} is closed ` +
          `to other users. Clone the project under a folder others can enter (e.g. /work or /srv).`,
      );
    }
  }
  const pwFile = stackPath("postgres", "pwfile");
  await Deno.writeTextFile(pwFile, `${DB_PASSWORD}\n`);
  if (isRoot()) await run("chown", [`${PG_USER}:${PG_USER}`, pwFile]);
  await pgRun("initdb", [
    "-D",
    dir,
    "-U",
    "postgres",
    "--auth=scram-sha-256",
    `--pwfile=${pwFile}`,
    "--encoding=UTF8",
    "--locale=C.UTF-8",
  ]);
  await Deno.remove(pwFile);
  const conf = Object.entries(SETTINGS).map(([key, value]) => `${key} = '${value}'`).join("\n");
  const confFile = join(dir, "postgresql.auto.conf");
  await Deno.writeTextFile(confFile, `${conf}\n`, { append: true });
}

/** Starts the primary and waits until it accepts connections. */
export function start(): Promise<void> {
  return startCluster(PRIMARY);
}

/** Stops the primary; false when it was not running. */
export function stop(): Promise<boolean> {
  return stopCluster(PRIMARY);
}

/** True when the primary's postmaster is running. */
export function isRunning(): Promise<boolean> {
  return clusterRunning(PRIMARY);
}

/** Runs SQL with psql against the server on `port` (the primary's by default). */
export function psqlRaw(sql: string, port = PORTS.postgres) {
  return run("psql", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-U",
    "postgres",
    "-d",
    "postgres",
    "-v",
    "ON_ERROR_STOP=1",
    "-X",
    "-q",
    "-At",
  ], { env: { PGPASSWORD: DB_PASSWORD }, stdin: sql, allowFailure: true });
}

/** Runs SQL as the postgres superuser; throws with psql's message when it fails. */
export async function psql(sql: string): Promise<string> {
  const result = await psqlRaw(sql);
  if (result.code !== 0) throw new StackError(`SQL failed:\n${result.stderr}`);
  return result.stdout.trim();
}
