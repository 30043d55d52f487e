/**
 * Faults injected into the running local stack's database: PostgreSQL restarted with a fast
 * shutdown, a flush backend terminated. Processes are killed and brought back with
 * tests/_stack.ts.
 */
import { DB_PASSWORD, PORTS } from "../../scripts/stack/layout.ts";
import * as postgres from "../../scripts/stack/postgres.ts";
import { waitFor } from "../../scripts/stack/processes.ts";
import { sql } from "../integration/_helpers.ts";

/** Restarts PostgreSQL as `pg_ctl -m fast restart` does: sessions end, committed data stays. */
export async function restartPostgres(downMs: number): Promise<void> {
  await postgres.stop();
  await new Promise((resolve) => setTimeout(resolve, downMs));
  await postgres.start();
}

/** Runs SQL in a psql session of its own, named so that pg_stat_activity tells it apart. */
async function psqlSession(applicationName: string, statement: string) {
  const session = new Deno.Command("psql", {
    args: ["-h", "127.0.0.1", "-p", String(PORTS.postgres), "-U", "postgres", "-d", "postgres"],
    env: { PGPASSWORD: DB_PASSWORD, PGAPPNAME: applicationName },
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = session.stdin.getWriter();
  await writer.write(new TextEncoder().encode(statement));
  await writer.close();
  return session;
}

/**
 * Terminates the backends that are in the middle of a flush. A flush is short,
 * so it is caught in the act: a session holds a SHARE lock on telemetry.telemetry for a moment,
 * a flush is started, and every backend that waits for that lock (only a flush writes
 * telemetry.telemetry) is terminated with pg_terminate_backend while its transaction is open.
 * Returns what was terminated: each backend's application name and the function it was in.
 * Tries again when no flush was caught (nothing was staged, so the flush had nothing to move).
 */
export async function terminateFlushBackends(attempts = 10): Promise<string[]> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const locker = await psqlSession(
      "fault-locker",
      "begin; lock table telemetry.telemetry in share mode; select pg_sleep(2); commit;",
    );
    const lockHeld = async () =>
      (await sql(`select count(*) from pg_stat_activity
                  where application_name = 'fault-locker' and wait_event = 'PgSleep'`)) === "1";
    await waitFor(lockHeld, 5_000, "the lock to be held");
    const flusher = await psqlSession("fault-flush", "select public.flush_telemetry();");
    let terminated: string[] = [];
    const deadline = Date.now() + 1_500;
    while (terminated.length === 0 && Date.now() < deadline) {
      // Materialized first: in one WHERE, the planner may call pg_terminate_backend before
      // the blocking test and end every backend.
      const names = await sql(`
        with blocked as materialized (
          select a.pid,
                 coalesce(nullif(a.application_name, ''), a.backend_type) || ' in ' ||
                   coalesce(substring(a.query from '[a-z_]*(?:flush|ingest)[a-z_]*'), 'a statement')
                   as name
          from pg_stat_activity as a
          where (select l.pid from pg_stat_activity as l
                 where l.application_name = 'fault-locker') = any(pg_blocking_pids(a.pid)))
        select b.name from blocked as b where pg_terminate_backend(b.pid)`);
      terminated = names === "" ? [] : names.split("\n");
      if (terminated.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all([locker.status, flusher.status]);
    if (terminated.length > 0) return terminated;
  }
  throw new Error(`No flush was caught running in ${attempts} attempts`);
}
