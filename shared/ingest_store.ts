/**
 * Storing device requests: group commit through public.ingest_batch (one database call for the
 * requests that arrive together), then one Redis round trip per group that adds the rate-limit
 * counts and bumps the query-cache generations of every owner whose frames were stored. A request
 * is answered only after both: its frames are committed, and no cached query that predates them
 * can be served again.
 */
import type { Cache } from "./cache.ts";
import type { LiveFeed, PublishedFrames } from "./live_feed.ts";
import { callRpc, type Db, DbError, toDbError } from "./db.ts";
import { createBatcher, type JobOutcome } from "./ingest_batcher.ts";
import type { TelemetryReject, TelemetryRow } from "./parser.ts";
import { generationKeys } from "./query_cache.ts";
import type { RateLimiter } from "./rate_limit.ts";

/** One device request to store. */
export interface IngestJob {
  deviceId: string;
  ownerId: string;
  /** The key the request came with: the call refuses it if it was revoked or rotated since. */
  keyHash: string;
  frames: readonly TelemetryRow[];
  rejects: readonly TelemetryReject[];
  idempotencyKey: string;
  summary: Record<string, unknown>;
}

/** A request's answer: its stored summary and the batch status after it was stored. */
export interface IngestAnswer {
  replayed: boolean;
  summary: Record<string, unknown>;
  result: {
    accepted: number;
    "pending_records": number;
    "batch_size": number;
    "batch_full": boolean;
  };
}

type BatchOutcome =
  | { ok: true; answer: IngestAnswer }
  | { ok: false; code: string; message: string };

/** A group never carries more frames than one ingest statement takes. */
const MAX_FRAMES_PER_CALL = 10_000;
/** Groups sent at once by one isolate: the database works on one while another travels. */
const GROUPS_IN_FLIGHT = 2;

export interface IngestStore {
  /**
   * Stores one request.
   * @throws {DbError} the request's own failure (e.g. P0002 for a revoked device), or the
   *   group's when the call failed as a whole (transient ones may be retried: keys make it safe)
   */
  store(job: IngestJob): Promise<IngestAnswer>;
}

export function createIngestStore(
  deps: { db: Db; cache: Cache; rateLimiter: RateLimiter; liveFeed?: LiveFeed },
) {
  async function sendGroup(jobs: IngestJob[]): Promise<JobOutcome<IngestAnswer>[]> {
    const outcomes = await callRpc<BatchOutcome[]>(deps.db, "ingest_batch", {
      p_requests: jobs.map((job) => ({
        device_id: job.deviceId,
        key_hash: job.keyHash,
        frames: job.frames,
        rejects: job.rejects,
        idempotency_key: job.idempotencyKey,
        summary: job.summary,
      })),
    });
    const generations = new Set<string>();
    const stored: PublishedFrames[] = [];
    jobs.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok && !outcome.answer.replayed) {
        for (const key of generationKeys(job.ownerId)) generations.add(key);
        stored.push({ deviceId: job.deviceId, frames: job.frames });
      }
    });
    // After the commit, not awaited: live viewers must never slow or fail ingest.
    deps.liveFeed?.publish(stored);
    const increments = deps.rateLimiter.unsynced();
    const totals = await deps.cache.addToCounters(increments, [...generations]);
    deps.rateLimiter.synced(increments, totals);
    return jobs.map((_, i): JobOutcome<IngestAnswer> => {
      const outcome = outcomes[i];
      if (!outcome) return { ok: false, error: new DbError("No outcome for request", "", true, 0) };
      // status 200: the call itself worked, so only the SQLSTATE says whether a retry may help.
      return outcome.ok
        ? { ok: true, value: outcome.answer }
        : { ok: false, error: toDbError({ message: outcome.message, code: outcome.code }, 200) };
    });
  }

  const batcher = createBatcher<IngestJob, IngestAnswer>(
    sendGroup,
    (job) => Math.max(1, job.frames.length),
    MAX_FRAMES_PER_CALL,
    GROUPS_IN_FLIGHT,
  );
  return { store: (job: IngestJob) => batcher.submit(job) } satisfies IngestStore;
}
