/**
 * Storing device requests: group commit through public.ingest_frames (one database call for the
 * requests that arrive together, sent as one raw text body), then one Redis round trip per group
 * that adds the rate-limit counts, bumps the query-cache generations of every owner whose frames
 * were stored and reads the stored devices' live watch marks. A request is answered only after
 * both: its frames are committed, and no cached query that predates them can be served again.
 * The live feed is published after them for the devices someone watches.
 *
 * The frames travel as the array literal written here (shared/ingest/frame_values.ts) and are stored as
 * that text, one staging row per request: neither PostgREST nor Postgres parses them on the way
 * in. The flush that unpacks
 * them into telemetry runs outside the device's transaction: pg_cron keeps one going, and when a
 * group leaves a full batch staged this isolate starts one after answering.
 */
import type { Cache } from "../platform/cache.ts";
import {
  createLiveWindow,
  type EntryFields,
  LIVE_MAX_LINE_CHARS_PER_REQUEST,
  type LiveFeed,
  liveWatchKey,
  type PublishedFrames,
} from "../live/live_feed.ts";
import { createWatchedDevices } from "../live/watched_devices.ts";
import {
  callRpc,
  callRpcText,
  type Db,
  DbError,
  type RpcTarget,
  toDbError,
} from "../platform/db.ts";
import { createFrameValuesWriter } from "./frame_values.ts";
import type { ReceiveClock } from "./receive_clock.ts";
import { createBatcher, type JobOutcome } from "./ingest_batcher.ts";
import type { Logger } from "../platform/log.ts";
import type { ParsedFrame, TelemetryReject, TelemetryRow } from "./parser.ts";
import { generationKeys } from "../query/query_cache.ts";
import type { RateLimiter } from "../auth/rate_limit.ts";

/**
 * A request's frames as they are parsed: each part gets its receive times (frames without a
 * timestamp), is encoded at once and its rows are let go. A parsed row object takes about 3
 * times the memory of its line, and a 10,000-line body held all of its rows until it was stored:
 * 8 such bodies at once took the function past its heap (measured). What stays is the literal's
 * bytes, the first row (a one-line request's answer) and the newest rows for the live feed.
 */
export interface JobFrames {
  /** Adds parsed frames, giving those without a device timestamp their receive time. */
  add(frames: readonly ParsedFrame[]): void;
  /** Adds rows that already have their recorded_at. */
  addRows(rows: readonly TelemetryRow[]): void;
  readonly count: number;
  readonly first: TelemetryRow | null;
}

interface JobFramesState extends JobFrames {
  finish(deviceId: string): { frameValues: Uint8Array[]; liveEntries: EntryFields[] | null };
}

/**
 * @param liveLineChars characters of lines the live feed may publish of this job's newest frames
 *   (a request: LIVE_MAX_LINE_CHARS_PER_REQUEST; a stream's chunk, which is live as a whole,
 *   more), or null: none, no one watches the device (IngestStore.liveWanted)
 */
export function createJobFrames(
  receiveClock: ReceiveClock,
  liveLineChars: number | null = LIVE_MAX_LINE_CHARS_PER_REQUEST,
): JobFrames {
  const writer = createFrameValuesWriter();
  let first: TelemetryRow | null = null;
  const live = liveLineChars === null ? null : createLiveWindow(liveLineChars);
  const frames: JobFramesState = {
    add(parsed) {
      const receiveTimes = receiveClock.take(parsed.filter((frame) => !frame.timestamped).length);
      let next = 0;
      frames.addRows(
        parsed.map((frame): TelemetryRow =>
          frame.timestamped ? frame.row : { ...frame.row, recorded_at: receiveTimes[next++] ?? "" }
        ),
      );
    },
    addRows(rows) {
      if (rows.length === 0) return;
      first ??= rows[0] ?? null;
      writer.add(rows);
      live?.add(rows);
    },
    get count() {
      return writer.count;
    },
    get first() {
      return first;
    },
    finish(deviceId) {
      return { frameValues: writer.finish(), liveEntries: live?.take(deviceId) ?? null };
    },
  };
  return frames;
}

/** One device request to store, as the handler has it. */
export interface IngestRequest {
  deviceId: string;
  ownerId: string;
  /** The key the request came with: the call refuses it if it was revoked or rotated since. */
  keyHash: string;
  /** Made by createJobFrames; nothing may be added once the job is made. */
  frames: JobFrames;
  rejects: readonly TelemetryReject[];
  idempotencyKey: string;
  summary: Record<string, unknown>;
}

/** One device request as it waits for its group: its frames as the literal's UTF-8 pieces. */
export interface IngestJob extends Omit<IngestRequest, "frames"> {
  frameCount: number;
  frameValues: readonly Uint8Array[];
  /**
   * What the live feed publishes (a request's newest frames, see createLiveWindow) as its
   * stream entries: JSON text, a fraction of the memory of the rows (measured: 1,000 rows of 25
   * fields held about 2.5 MB; their entries about 0.6 MB). Null: none were made, no one watched
   * the device when its frames were parsed.
   */
  liveEntries: readonly EntryFields[] | null;
}

const utf8 = new TextEncoder();

/** The job of a request; its frames' last rows (but the live feed's) are let go. */
export function ingestJob(request: IngestRequest): IngestJob {
  const { frames, ...rest } = request;
  return {
    ...rest,
    frameCount: frames.count,
    ...(frames as JobFramesState).finish(request.deviceId),
  };
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

const PART_END_BYTES = utf8.encode(PART_END);

/**
 * The body public.ingest_frames reads, as UTF-8 pieces in order: 4 parts per request (header,
 * frames as a telemetry.frame_values[] literal, rejects, summary), each but the last followed by
 * PART_END. The pieces are sent one after another, never joined: the frames are the jobs' own
 * bytes, so a group costs no copy of them (joining, then encoding the joined text, made two).
 */
export function encodeGroup(jobs: readonly IngestJob[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (const job of jobs) {
    if (pieces.length > 0) pieces.push(PART_END_BYTES);
    const header = {
      "device_id": job.deviceId,
      "key_hash": job.keyHash,
      "idempotency_key": job.idempotencyKey,
      "frame_count": job.frameCount,
    };
    pieces.push(
      utf8.encode(JSON.stringify(header)),
      PART_END_BYTES,
      ...job.frameValues,
      PART_END_BYTES,
      utf8.encode(JSON.stringify(job.rejects)),
      PART_END_BYTES,
      utf8.encode(JSON.stringify(job.summary)),
    );
  }
  return pieces;
}

export interface IngestStore {
  /**
   * Stores one request.
   * @throws {DbError} the request's own failure (e.g. P0002 for a revoked device), or the
   *   group's when the call failed as a whole (transient ones may be retried: keys make it safe)
   */
  store(job: IngestJob): Promise<IngestAnswer>;
  /**
   * Whether the device's next frames should be made into live entries: false while this isolate's
   * last round trip (within WATCHED_STATE_MS) found no one watching it.
   */
  liveWanted(deviceId: string): boolean;
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
  const watched = createWatchedDevices();

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
    const stored: IngestJob[] = [];
    jobs.forEach((job, i) => {
      const outcome = answer.outcomes[i];
      if (outcome?.ok && !outcome.replayed) {
        for (const key of generationKeys(job.ownerId)) generations.add(key);
        stored.push(job);
      }
    });
    const increments = deps.rateLimiter.unsynced();
    // The stored devices' watch marks ride along with the counters (no live feed: none needed).
    const devices = deps.liveFeed ? [...new Set(stored.map((job) => job.deviceId))] : [];
    const counted = await deps.cache.addToCountersAndGet(
      increments,
      [...generations],
      deps.rateLimiter.expired(),
      devices.map(liveWatchKey),
    );
    deps.rateLimiter.synced(increments, counted?.totals ?? null);
    if (counted) watched.learned(devices, counted.values);
    const watchedNow = counted && new Set(devices.filter((_, i) => counted.values[i] != null));
    // After the commit, not awaited: live viewers must never slow or fail ingest. With Redis
    // down (marks unknown) the publish is tried as before.
    deps.liveFeed?.publish(stored.flatMap((job): PublishedFrames[] => {
      if (watchedNow && !watchedNow.has(job.deviceId)) return [];
      if (job.liveEntries !== null) return [{ deviceId: job.deviceId, entries: job.liveEntries }];
      return job.frameCount > 0 ? [{ deviceId: job.deviceId, unpublished: job.frameCount }] : [];
    }));
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
    (job) => Math.max(1, job.frameCount),
    MAX_FRAMES_PER_CALL,
    GROUPS_IN_FLIGHT,
  );
  return {
    store: (job: IngestJob) => batcher.submit(job),
    liveWanted: (deviceId) => deps.liveFeed !== undefined && watched.wanted(deviceId),
  };
}
