/**
 * Reads that may lag go to the read replica while it is fresh enough, else to the primary.
 * Each isolate asks the replica how far behind it is (public.get_replica_status, through the
 * replica's own endpoint) at most every CHECK_INTERVAL_MS while reads arrive; a replica that
 * lags past the configured maximum, is not streaming, or fails a read is left aside until a
 * later check finds it fit again. A read the replica fails is retried on the primary at once,
 * so a replica going away costs a request time, never an error.
 */
import { DbError } from "./db.ts";
import { HttpError } from "./http.ts";

/** Where a read went. */
export type ReadTarget = "replica" | "primary";

/** What public.get_replica_status answers. */
export interface ReplicaStatus {
  "in_recovery": boolean;
  streaming: boolean;
  "replay_paused": boolean;
  "lag_seconds": number;
}

/** The router's view of the replica: whether reads go to it, and if not, why. */
export interface ReplicaState {
  usable: boolean;
  /** Why reads do not go to the replica, for health; null while they do. */
  reason: string | null;
  /** The replay lag the last check saw; null when the replica did not answer. */
  lagSeconds: number | null;
  /** When this was found (ms, the router's clock). */
  checkedAt: number;
}

/** How often a busy isolate asks the replica about itself: well inside the 1 s to move reads. */
export const CHECK_INTERVAL_MS = 250;
/** A check that takes longer counts as a replica that does not answer. */
export const CHECK_TIMEOUT_MS = 500;

/**
 * Whether reads may go to a replica that said this about itself, and if not, why.
 * @param maxLagSeconds the most a replica answer may lag behind the primary
 */
export function judgeReplica(
  status: ReplicaStatus,
  maxLagSeconds: number,
): { usable: boolean; reason: string | null } {
  if (!status.in_recovery) {
    return { usable: false, reason: "the replica is not a standby (promoted?)" };
  }
  if (!status.streaming) {
    return { usable: false, reason: "the replica is not streaming from the primary" };
  }
  if (status.lag_seconds > maxLagSeconds) {
    const paused = status.replay_paused ? " (replay paused)" : "";
    return {
      usable: false,
      reason: `the replica lags ${status.lag_seconds.toFixed(1)} s behind the primary, ` +
        `over the ${maxLagSeconds} s allowed${paused}`,
    };
  }
  return { usable: true, reason: null };
}

/**
 * True for a failure of the replica itself (unreachable, overloaded, a query cancelled by
 * replay), after which the same read is worth trying on the primary; false for an answer the
 * primary would give too (a bad parameter, a 404).
 */
export function isReplicaFailure(error: unknown): boolean {
  if (error instanceof DbError) return error.transient;
  if (error instanceof HttpError) return error.status === 503;
  return error instanceof TypeError; // fetch: connection refused or reset
}

export interface ReadRouter {
  /** Where the next read goes; checks the replica first when the last check is stale. */
  pick(): Promise<ReadTarget>;
  /** The replica failed a read: reads go to the primary until a check finds it fit. */
  markFailed(reason: string): void;
  /** The replica's state now, checked afresh when the last check is stale. */
  state(): Promise<ReplicaState>;
}

/**
 * A router over one replica.
 * @param options.check asks the replica for its status (public.get_replica_status)
 */
export function createReadRouter(options: {
  check: (signal: AbortSignal) => Promise<ReplicaStatus>;
  maxLagSeconds: number;
  now?: () => number;
  checkIntervalMs?: number;
  checkTimeoutMs?: number;
}): ReadRouter {
  const now = options.now ?? (() => performance.now());
  const interval = options.checkIntervalMs ?? CHECK_INTERVAL_MS;
  const timeout = options.checkTimeoutMs ?? CHECK_TIMEOUT_MS;
  let current: ReplicaState | null = null;
  let inFlight: Promise<ReplicaState> | null = null;

  async function checkNow(): Promise<ReplicaState> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      const status = await options.check(controller.signal);
      const verdict = judgeReplica(status, options.maxLagSeconds);
      return { ...verdict, lagSeconds: status.lag_seconds, checkedAt: now() };
    } catch (error) {
      const why = controller.signal.aborted
        ? `did not answer within ${timeout} ms`
        : error instanceof Error
        ? error.message
        : String(error);
      return {
        usable: false,
        reason: `the replica is unreachable: ${why}`,
        lagSeconds: null,
        checkedAt: now(),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async function fresh(): Promise<ReplicaState> {
    if (current && now() - current.checkedAt < interval) return current;
    // Concurrent reads share one check.
    inFlight ??= checkNow().then((state) => {
      current = state;
      inFlight = null;
      return state;
    });
    return await inFlight;
  }

  return {
    async pick() {
      return (await fresh()).usable ? "replica" : "primary";
    },
    markFailed(reason) {
      current = {
        usable: false,
        reason: `a read on the replica failed: ${reason}`,
        lagSeconds: current?.lagSeconds ?? null,
        checkedAt: now(),
      };
    },
    state: fresh,
  };
}

/**
 * Runs a read on the replica when the router says so, else on the primary; a read the replica
 * fails is run again on the primary, so the caller gets an answer either way.
 * @param read the read, given where it runs
 * @returns the read's value and where it ran in the end
 */
export async function readPreferringReplica<T>(
  router: ReadRouter | null,
  read: (target: ReadTarget) => Promise<T>,
): Promise<{ value: T; source: ReadTarget }> {
  if (!router || (await router.pick()) === "primary") {
    return { value: await read("primary"), source: "primary" };
  }
  try {
    return { value: await read("replica"), source: "replica" };
  } catch (error) {
    if (!isReplicaFailure(error)) throw error;
    router.markFailed(error instanceof Error ? error.message : String(error));
    return { value: await read("primary"), source: "primary" };
  }
}
