/**
 * Storing device requests: group commit through public.ingest_frames (one database call for the
 * requests that arrive together, sent as one raw text body), then one Redis round trip per group
 * that adds the rate-limit counts and bumps the query-cache generations of every owner whose
 * frames were stored. A request is answered only after both: its frames are committed, and no
 * cached query that predates them can be served again.
 *
 * The frames travel as the array literal written here (shared/ingest/frame_values.ts) and are stored as
 * that text, one staging row per request: neither PostgREST nor Postgres parses them on the way
 * in. The flush that unpacks
 * them into telemetry runs outside the device's transaction: pg_cron keeps one going, and when a
 * group leaves a full batch staged this isolate starts one after answering.
 */
import type { Cache } from "../platform/cache.ts";
import type { LiveFeed, PublishedFrames } from "../live/live_feed.ts";
import {
  callRpc,
  callRpcText,
  type Db,
  DbError,
  type RpcTarget,
  toDbError,
} from "../platform/db.ts";
import { encodeFrameValues } from "./frame_values.ts";
import { createBatcher, type JobOutcome } from "./ingest_batcher.ts";
import type { Logger } from "../platform/log.ts";
import type { TelemetryReject, TelemetryRow } from "./parser.ts";
import { generationKeys } from "../query/query_cache.ts";
import type { RateLimiter } from "../auth/rate_limit.ts";

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

interface BatchStatus {
  "pending_records": number;
  "batch_size": number;
  "batch_full": boolean;
}

/** A stored request's status is the batch as it stood after it; a replay gets the first one. */
type RequestOutcome =
  | ({ ok: true; replayed: false; accepted: number } & BatchStatus)
  | ({ ok: true; replayed: true; accepted: number; summary: Record<string, unknown> } & BatchStatus)
  | { ok: false; code: string; message: string };

interface GroupAnswer {
  batch: BatchStatus;
  outcomes: RequestOutcome[];
}

/** A group never carries more frames than one ingest statement takes. */
const MAX_FRAMES_PER_CALL = 10_000;
/** Groups sent at once by one isolate: the database works on one while another travels. */
const GROUPS_IN_FLIGHT = 2;

/**
 * What ends each part of a request in the body: a line feed and U+001E (record separator). No
 * part holds that pair: JSON text has no raw control character, and of a frame's values only
 * raw_data may hold a line feed (a pretty-printed element of a JSON document), which is then
 * valid JSON text and so holds no U+001E.
 */
const PART_END = "\n\u001e";

/**
 * The body public.ingest_frames reads: 4 parts per request (header, frames as a
 * telemetry.frame_values[] literal, rejects, summary).
 */
export function encodeGroup(jobs: readonly IngestJob[]): string {
  const parts: string[] = [];
  for (const job of jobs) {
    parts.push(
      JSON.stringify({
        "device_id": job.deviceId,
        "key_hash": job.keyHash,
        "idempotency_key": job.idempotencyKey,
        "frame_count": job.frames.length,
      }),
      encodeFrameValues(job.frames),
      JSON.stringify(job.rejects),
      JSON.stringify(job.summary),
    );
  }
  return parts.join(PART_END);
}

export interface IngestStore {
  /**
   * Stores one request.
   * @throws {DbError} the request's own failure (e.g. P0002 for a revoked device), or the
   *   group's when the call failed as a whole (transient ones may be retried: keys make it safe)
   */
  store(job: IngestJob): Promise<IngestAnswer>;
}

/** Keeps the isolate alive for work after the answer on hosted Edge Functions. */
function runAfterAnswer(work: Promise<unknown>): void {
  const runtime = (globalThis as { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } })
    .EdgeRuntime;
  runtime?.waitUntil(work);
}

export function createIngestStore(deps: {
  db: Db;
  rpc: RpcTarget;
  cache: Cache;
  rateLimiter: RateLimiter;
  logger: Logger;
  liveFeed?: LiveFeed;
}): IngestStore {
  let flushing = false;

  /** One flush at a time from this isolate; the database skips it if another is running. */
  function flushAfterAnswer(): void {
    if (flushing) return;
    flushing = true;
    const work = callRpc(deps.db, "flush_after_ingest")
      .catch((error: unknown) => deps.logger.warn("flush after ingest failed", { error }))
      .finally(() => flushing = false);
    runAfterAnswer(work);
  }

  async function sendGroup(jobs: IngestJob[]): Promise<JobOutcome<IngestAnswer>[]> {
    const answer = await callRpcText<GroupAnswer>(deps.rpc, "ingest_frames", encodeGroup(jobs));
    const generations = new Set<string>();
    const stored: PublishedFrames[] = [];
    jobs.forEach((job, i) => {
      const outcome = answer.outcomes[i];
      if (outcome?.ok && !outcome.replayed) {
        for (const key of generationKeys(job.ownerId)) generations.add(key);
        stored.push({ deviceId: job.deviceId, frames: job.frames });
      }
    });
    // After the commit, not awaited: live viewers must never slow or fail ingest.
    deps.liveFeed?.publish(stored);
    const increments = deps.rateLimiter.unsynced();
    const totals = await deps.cache.addToCounters(
      increments,
      [...generations],
      deps.rateLimiter.expired(),
    );
    deps.rateLimiter.synced(increments, totals);
    if (answer.batch.batch_full) flushAfterAnswer();

    return jobs.map((job, i): JobOutcome<IngestAnswer> => {
      const outcome = answer.outcomes[i];
      if (!outcome) return { ok: false, error: new DbError("No outcome for request", "", true, 0) };
      // status 200: the call itself worked, so only the SQLSTATE says whether a retry may help.
      if (!outcome.ok) {
        return {
          ok: false,
          error: toDbError({ message: outcome.message, code: outcome.code }, 200),
        };
      }
      return {
        ok: true,
        value: {
          replayed: outcome.replayed,
          summary: outcome.replayed ? outcome.summary : job.summary,
          result: {
            accepted: outcome.accepted,
            "pending_records": outcome.pending_records,
            "batch_size": outcome.batch_size,
            "batch_full": outcome.batch_full,
          },
        },
      };
    });
  }

  const batcher = createBatcher<IngestJob, IngestAnswer>(
    sendGroup,
    (job) => Math.max(1, job.frames.length),
    MAX_FRAMES_PER_CALL,
    GROUPS_IN_FLIGHT,
  );
  return { store: (job: IngestJob) => batcher.submit(job) };
}
