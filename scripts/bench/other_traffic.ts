/**
 * Other traffic on the stack while the benchmark measures: simulated drones, a bridge, an import
 * or another client's devices. The ingest figures count every process's CPU, so frames that are
 * not the benchmark's inflate them (with the three default simulated drones a single-frame run
 * read 0.62 instead of 0.25). Every request telemetry-parse stores leaves a row in
 * telemetry.ingest_requests (its idempotency claim): those of devices the benchmark does not own
 * are the other traffic.
 */
import { runningPid } from "../stack/processes.ts";
import * as postgres from "../stack/postgres.ts";

export interface OtherTraffic {
  /** Requests of other devices stored since the mark. */
  requests: number;
  /** Their frames. */
  frames: number;
}

/** The database's clock now: the mark that {@link otherTrafficSince} counts from. */
export async function trafficMark(): Promise<string> {
  return await postgres.psql("select now()::text");
}

/** What devices of other owners than `benchOwner` stored through telemetry-parse since `mark`. */
export async function otherTrafficSince(benchOwner: string, mark: string): Promise<OtherTraffic> {
  const [requests, frames] = (await postgres.psql(`
    select count(*), coalesce(sum(r.accepted), 0)
    from telemetry.ingest_requests as r
    where r.created_at >= '${mark}'::timestamptz
      and r.device_id not in (select d.id from telemetry.devices as d
                              where d.owner_id = '${benchOwner}')`)).split("|").map(Number);
  return { requests: requests ?? 0, frames: frames ?? 0 };
}

/**
 * Why the benchmark must not start, or null: the drone simulator of this checkout is running, or
 * other devices stored frames during the last `seconds`.
 */
export async function trafficBeforeStart(benchOwner: string, seconds = 10): Promise<string | null> {
  const simulator = runningPid("simulator");
  if (simulator !== null) {
    return `the drone simulator is running (pid ${simulator}). Stop it ` +
      "(deno task stack stop, then deno task stack start; or start " +
      "the stack with SIMULATE=0 scripts/dev.sh)";
  }
  const mark = await postgres.psql(`select (now() - interval '${seconds} seconds')::text`);
  const other = await otherTrafficSince(benchOwner, mark);
  if (other.requests > 0) {
    return `${other.requests} requests (${other.frames} frames) of devices the benchmark does ` +
      `not own reached the stack in the last ${seconds} s`;
  }
  return null;
}
