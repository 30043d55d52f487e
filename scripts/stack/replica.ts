/**
 * The local read replica (STACK_REPLICA=1): a hot standby of the stack's PostgreSQL, made with
 * pg_basebackup and kept current by streaming replication through a replication slot, in
 * .stack/replica/data on a port of its own. The primary needs nothing new for it: initdb's
 * defaults already have wal_level = replica, max_wal_senders = 10 and a `host replication`
 * line for 127.0.0.1 in pg_hba.conf.
 */
import { join } from "node:path";
import { DB_PASSWORD, PORTS, stackPath } from "./layout.ts";
import {
  type Cluster,
  clusterExists,
  clusterRunning,
  pgRun,
  psql,
  psqlRaw,
  startCluster,
  stopCluster,
} from "./postgres.ts";
import { isRoot, run, StackError } from "./processes.ts";

/** The primary keeps the WAL this slot's standby has not received yet. */
export const REPLICATION_SLOT = "stack_replica";

/**
 * WAL the primary keeps at most for a standby that is away: without a cap, a replica stopped
 * while ingest goes on (or a stack started once with STACK_REPLICA=1 and never again) would
 * fill the disk. Past it the slot is lost and the next start makes the standby afresh.
 */
const MAX_SLOT_WAL_KEEP = "8GB";

/** Settings of the standby beyond what it copies from the primary. */
const STANDBY_SETTINGS: Record<string, string> = {
  // The standby tells the primary which rows its queries still see, so the primary's vacuum
  // (the flush deletes every staged row it moves) does not cancel a page read mid-way.
  "hot_standby_feedback": "on",
};

export function replicaDataDir(): string {
  return stackPath("replica", "data");
}

/** The standby, as postgres.ts runs its clusters. */
const STANDBY: Cluster = {
  name: "the replica",
  dataDir: replicaDataDir(),
  port: PORTS.replicaPostgres,
  logFile: stackPath("replica", "postgres.log"),
};

/** True when the standby's data folder exists. */
export function isInitialised(): Promise<boolean> {
  return clusterExists(STANDBY);
}

/** The state of the primary's slot: null when there is none, "lost" when its WAL is gone. */
async function slotState(): Promise<string | null> {
  const state = await psql(
    `select wal_status from pg_replication_slots where slot_name = '${REPLICATION_SLOT}'`,
  );
  return state === "" ? null : state;
}

/**
 * True when the standby on disk can resume streaming: its folder exists and the primary still
 * holds its slot's WAL. Otherwise it has to be made again (initialise).
 */
export async function canResume(): Promise<boolean> {
  if (!(await isInitialised())) return false;
  const state = await slotState();
  return state !== null && state !== "lost";
}

/**
 * Makes the standby afresh from the running primary: a base backup that creates the slot and
 * writes the standby's connection to the primary (-R), then the standby's own settings.
 */
export async function initialise(): Promise<void> {
  const dir = replicaDataDir();
  await Deno.remove(stackPath("replica"), { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (isRoot()) await run("chown", ["-R", "postgres:postgres", stackPath("replica")]);
  if ((await slotState()) !== null) {
    await psql(`select pg_drop_replication_slot('${REPLICATION_SLOT}')`);
  }
  await psql(`alter system set max_slot_wal_keep_size = '${MAX_SLOT_WAL_KEEP}'`);
  await psql("select pg_reload_conf()");
  const conninfo = `host=127.0.0.1 port=${PORTS.postgres} user=postgres password=${DB_PASSWORD} ` +
    `application_name=${REPLICATION_SLOT}`;
  await pgRun("pg_basebackup", [
    "-d",
    conninfo,
    "-D",
    dir,
    "-X",
    "stream",
    "-C",
    "-S",
    REPLICATION_SLOT,
    "-R",
    "--checkpoint=fast",
  ]);
  const conf = Object.entries(STANDBY_SETTINGS).map(([key, value]) => `${key} = '${value}'`);
  const confFile = join(dir, "postgresql.auto.conf");
  await Deno.writeTextFile(confFile, conf.join("\n") + "\n", { append: true });
  if (isRoot()) await run("chown", ["postgres:postgres", confFile]);
}

/** Starts the standby and waits until it accepts read-only connections. */
export function start(): Promise<void> {
  return startCluster(STANDBY);
}

/** Stops the standby (fast shutdown); false when it was not running. */
export function stop(): Promise<boolean> {
  return stopCluster(STANDBY);
}

/** True when the standby's postmaster is running. */
export function isRunning(): Promise<boolean> {
  return clusterRunning(STANDBY);
}

/**
 * The replay lag as the standby sees it, in seconds: 0 when it has replayed all it received,
 * else the age of the newest transaction it replayed (so a paused replay shows a growing lag).
 * Null when the standby does not answer.
 */
export async function replayLagSeconds(): Promise<number | null> {
  const result = await psqlRaw(
    `select case when pg_last_wal_receive_lsn() is not distinct from pg_last_wal_replay_lsn()
       then 0 else extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp()) end`,
    PORTS.replicaPostgres,
  );
  if (result.code !== 0) return null;
  const lag = Number(result.stdout.trim());
  return Number.isFinite(lag) ? lag : null;
}

/**
 * Runs SQL on the standby as the postgres superuser.
 * @throws {StackError} with psql's message when it fails
 */
export async function psqlReplica(sql: string): Promise<string> {
  const result = await psqlRaw(sql, PORTS.replicaPostgres);
  if (result.code !== 0) throw new StackError(`SQL on the replica failed:\n${result.stderr}`);
  return result.stdout.trim();
}

/**
 * PostgREST's statements that read pages (read_telemetry_page, and read_telemetry_page_get on a
 * replica), rollups or flights: the reads a replica takes.
 */
const READ_STATEMENTS = `query like 'WITH pgrst_source%' and (
  query like '%"public"."read_telemetry_page%'
  or query like '%"public"."telemetry_hourly_rollups"%'
  or query like '%"public"."telemetry_daily_rollups"%'
  or query like '%"public"."telemetry_flights"%')`;

/**
 * How many page, rollup and flight reads PostgREST ran on the server at `port` (the primary's
 * or the replica's), from its pg_stat_statements, which each server keeps for itself.
 */
export async function countReadStatements(port: number): Promise<number> {
  const result = await psqlRaw(
    `select coalesce(sum(calls), 0) from extensions.pg_stat_statements where ${READ_STATEMENTS}`,
    port,
  );
  if (result.code !== 0) throw new StackError(`Counting reads failed:\n${result.stderr}`);
  return Number(result.stdout.trim());
}
