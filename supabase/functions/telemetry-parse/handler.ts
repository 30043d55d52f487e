/**
 * POST /telemetry-parse: a device sends telemetry lines; valid frames are stored, invalid lines
 * go to the dead-letter table with their reasons. Order: method, device key, rate limit,
 * content type and size, parse and validate (one pass, as the body streams in), store (one
 * database call shared with the requests that arrive at the same time, then one Redis call for
 * the rate counts and cache generations), response. 200 means every accepted frame is durable
 * in Postgres.
 *
 * A streaming request (`?stream=true`) is read, parsed and stored chunk by chunk as it arrives
 * (shared/ingest/stream_ingest.ts) and answers its counts at its end or its time limit; GET answers the
 * device's resume point, its newest stored `recorded_at`.
 *
 * A single-line body answers the reference API's shape exactly
 * `{success, parsed_data, stored, batch_status, timestamp}`; a longer body adds
 * `accepted, rejected, errors` (the first 100 errors) and has `parsed_data: null`, since echoing
 * thousands of frames back would cost the device more than it tells it.
 */
import { withRetry } from "../../../shared/platform/retry.ts";
import { DbError } from "../../../shared/platform/db.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import {
  authenticateDevice,
  createLocalDeviceCache,
  createUnknownKeyLimit,
  deviceCacheKey,
} from "../../../shared/auth/device_auth.ts";
import {
  HttpError,
  jsonResponse,
  requireMethod,
  withBoundary,
} from "../../../shared/platform/http.ts";
import type { ParseResult, TelemetryReject, TelemetryRow } from "../../../shared/ingest/parser.ts";
import {
  createIngestStore,
  createJobFrames,
  type IngestAnswer,
  ingestJob,
  type JobFrames,
} from "../../../shared/ingest/ingest_store.ts";
import {
  createLiveFeed,
  LIVE_MAX_LINE_CHARS_PER_STREAM_CHUNK,
} from "../../../shared/live/live_feed.ts";
import {
  createQuotaLimiter,
  deviceQuotas,
  syncInBackground,
} from "../../../shared/auth/rate_limit.ts";
import { createReceiveClock } from "../../../shared/ingest/receive_clock.ts";
import {
  checkTelemetryContentType,
  readTelemetryBody,
} from "../../../shared/ingest/telemetry_body.ts";
import {
  ingestStream,
  PROCESS_CPU,
  REAL_STREAM_CLOCK,
} from "../../../shared/ingest/stream_ingest.ts";
import type { Device } from "../../../shared/auth/device_auth.ts";
import { callRpc } from "../../../shared/platform/db.ts";
import { runAfterAnswer } from "../../../shared/platform/after_answer.ts";
import { type AdmissionTicket, createAdmission } from "../../../shared/platform/admission.ts";
import { declaredLength } from "../../../shared/platform/body_reader.ts";

const MAX_ERRORS_SHOWN = 100;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

type IngestResult = IngestAnswer["result"];

function storeParam(url: URL): boolean {
  const value = url.searchParams.get("store");
  if (value === null || value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new HttpError(
    400,
    "invalid_parameter",
    `Parameter "store" must be true or false, got "${value}"`,
    {
      parameter: "store",
    },
  );
}

function streamParam(url: URL): boolean {
  const value = url.searchParams.get("stream");
  if (value === null || value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true;
  throw new HttpError(
    400,
    "invalid_parameter",
    `Parameter "stream" must be true or false, got "${value}"`,
    { parameter: "stream" },
  );
}

/**
 * A streaming request's own bound (`max_seconds`, `max_cpu_ms`): a whole number from 1 to the
 * configured one, which is the default.
 */
function boundParam(url: URL, name: string, configured: number): number {
  const value = url.searchParams.get(name);
  if (value === null) return configured;
  const bound = Number(value);
  if (!/^\d+$/.test(value) || bound < 1 || bound > configured) {
    throw new HttpError(
      400,
      "invalid_parameter",
      `Parameter "${name}" must be a whole number from 1 to ${configured}, got "${value}"`,
      { parameter: name },
    );
  }
  return bound;
}

function idempotencyKey(request: Request): string | null {
  const key = request.headers.get("idempotency-key");
  if (key === null) return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpError(
      400,
      "invalid_header",
      "Header Idempotency-Key must be 1 to 255 printable ASCII characters without spaces",
      { header: "Idempotency-Key" },
    );
  }
  return key;
}

/** The body fields that do not depend on the database, kept as the request's answer. */
function summarise(
  parsed: ParseResult,
  frames: JobFrames,
  stored: boolean,
  timestamp: string,
) {
  const single = frames.count + parsed.rejects.length === 1;
  return {
    single,
    parsed_data: single ? frames.first : null,
    stored,
    accepted: frames.count,
    rejected: parsed.rejects.length,
    errors: parsed.errors.slice(0, MAX_ERRORS_SHOWN),
    timestamp,
  };
}

type Summary = ReturnType<typeof summarise>;

function respond(
  summary: Summary,
  batch: IngestResult | null,
  replayed: boolean,
  extra: Record<string, unknown> = {},
): Response {
  const headers: Record<string, string> = replayed ? { "idempotent-replayed": "true" } : {};
  if (summary.accepted === 0) {
    throw new HttpError(
      422,
      "invalid_telemetry",
      summary.single
        ? `The frame is invalid: ${summary.errors[0]?.reason ?? "no valid field"}`
        : `All ${summary.rejected} lines are invalid`,
      { rejected: summary.rejected, errors: summary.errors, ...extra },
      headers,
    );
  }
  const batchStatus = batch
    ? {
      "pending_records": batch.pending_records,
      "batch_size": batch.batch_size,
      "batch_full": batch.batch_full,
    }
    : null;
  const body = summary.single
    ? {
      success: true,
      parsed_data: summary.parsed_data,
      stored: summary.stored,
      batch_status: batchStatus,
      timestamp: summary.timestamp,
    }
    : {
      success: true,
      parsed_data: null,
      stored: summary.stored,
      accepted: summary.accepted,
      rejected: summary.rejected,
      errors: summary.errors,
      batch_status: batchStatus,
      ...extra,
      timestamp: summary.timestamp,
    };
  return jsonResponse(body, 200, headers);
}

/** The bytes of a stream chunk's lines (each line's text and its line feed). */
function lineBytes(frames: readonly TelemetryRow[], rejects: readonly TelemetryReject[]): number {
  let bytes = 0;
  for (const frame of frames) bytes += frame.raw_data.length + 1;
  for (const reject of rejects) bytes += reject.raw_text.length + 1;
  return bytes;
}

/**
 * What a body sent without Content-Length holds from its start (a streaming request excepted:
 * its frames are what it holds). Without it, every such body was read and parsed side by side
 * until their bytes filled the budget: 64 concurrent 5 MiB bodies took telemetry-parse to 126-135
 * MB, 107-121 MB with it (3 runs each). Now at most budget / reserve of them are read at once, and
 * the rest are refused before their first byte.
 */
const UNDECLARED_BODY_RESERVE_BYTES = 1024 * 1024;

/** How long this isolate trusts a device key it has just seen (see LocalDeviceCache). */
const LOCAL_DEVICE_CACHE_MS = 5_000;

export function createParseHandler(deps: Deps): (request: Request) => Promise<Response> {
  const receiveClock = createReceiveClock(() => deps.now().getTime());
  const localDevices = createLocalDeviceCache(LOCAL_DEVICE_CACHE_MS);
  const rateLimiter = createQuotaLimiter(deviceQuotas(deps.config.limits));
  const unknownKeys = createUnknownKeyLimit(deps.config.limits.unknownKeyLookupsPerMinute);
  // One budget for the isolate: bodies are admitted before they are read (503 past it).
  const admission = createAdmission(deps.config.limits.inFlight);
  const ingest = createIngestStore({
    db: deps.db,
    rpc: deps.config,
    cache: deps.cache,
    rateLimiter,
    logger: deps.logger,
    liveFeed: createLiveFeed(deps.config.redis, deps.logger),
  });

  /** Maps a store failure to the device's answer; anything else goes on to the boundary. */
  async function storeFailure(error: unknown, device: Device): Promise<never> {
    // The key was revoked or rotated after it was cached: forget it and refuse it like any bad key.
    if (error instanceof DbError && error.code === "P0002") {
      localDevices.delete(device.keyHash);
      await deps.cache.del(deviceCacheKey(device.keyHash));
      throw new HttpError(401, "invalid_device_key", "Device key is unknown or revoked");
    }
    // A value the parser let through but a table constraint refuses (SQLSTATE classes 22 and
    // 23): the request's own data is at fault, and nothing of it was stored.
    if (error instanceof DbError && /^2[23]/.test(error.code)) {
      throw new HttpError(
        422,
        "invalid_telemetry",
        `The database refused the frames: ${error.message}`,
      );
    }
    throw error;
  }

  /** GET: where a device whose stream broke off resumes, its newest stored recorded_at. */
  async function resumePoint(device: Device): Promise<Response> {
    const last = await withRetry(
      () => callRpc<string | null>(deps.db, "device_resume_point", { "p_device_id": device.id }),
      { maxRetries: deps.config.limits.maxRetries },
    );
    return jsonResponse(
      {
        success: true,
        "device_id": device.id,
        "last_recorded_at": last,
        timestamp: deps.now().toISOString(),
      },
      200,
      { "cache-control": "no-store" },
    );
  }

  /** POST ?stream=true: stored chunk by chunk as the body arrives, answered at its end. */
  async function streamRequest(
    request: Request,
    device: Device,
    receivedAt: Date,
    { maxSeconds, cpuBudgetMs, ticket, context }: {
      maxSeconds: number;
      cpuBudgetMs: number;
      ticket: AdmissionTicket;
      context: { log: Record<string, unknown> };
    },
  ): Promise<Response> {
    const limits = deps.config.limits.stream;
    // Each chunk has its own key, so a retry of a chunk stores nothing twice. A client's
    // Idempotency-Key cannot name chunks, whose bounds depend on timing (refused before this).
    const streamKey = `stream:${crypto.randomUUID()}`;
    const started = REAL_STREAM_CLOCK.now();
    const result = await ingestStream(request.body ?? new ReadableStream(), {
      chunkFrames: limits.chunkFrames,
      chunkMs: limits.chunkMs,
      maxLines: limits.maxLines,
      maxBytes: limits.maxBytes,
      onPending: (frames) => ticket.holdFrames(frames),
      deadline: started + maxSeconds * 1000,
      receivedAt,
      receiveClock,
      clock: REAL_STREAM_CLOCK,
      maxErrors: MAX_ERRORS_SHOWN,
      cpuBudgetMs,
      cpu: PROCESS_CPU,
      store: (chunk) => {
        // The device's frame and byte quotas hold mid-stream too: over them, the stream ends
        // with a 429 that says how much was stored before.
        rateLimiter.admit(device.id, deps.now(), {
          frames: chunk.frames.length,
          bytes: lineBytes(chunk.frames, chunk.rejects),
        });
        // A chunk is about a second of the stream: live as a whole (live_feed.ts). Made into
        // entries only while someone watches the device (a sixth of a 100 Hz stream's CPU went
        // to the live feed); a chunk stored without them as a viewer came is told as a gap.
        const frames = createJobFrames(
          receiveClock,
          ingest.liveWanted(device.id) ? LIVE_MAX_LINE_CHARS_PER_STREAM_CHUNK : null,
        );
        frames.addRows(chunk.frames);
        const job = ingestJob({
          deviceId: device.id,
          ownerId: device.ownerId,
          keyHash: device.keyHash,
          frames,
          rejects: chunk.rejects,
          idempotencyKey: `${streamKey}:${chunk.number}`,
          summary: { chunk: chunk.number, accepted: chunk.frames.length },
        });
        return withRetry(() => ingest.store(job), { maxRetries: deps.config.limits.maxRetries })
          .catch((error: unknown) => storeFailure(error, device));
      },
    });
    context.log.frames = result.accepted;
    context.log.rejected = result.rejected;
    context.log.stream_end = result.ended;
    context.log.cpu_ms = Math.round(result.cpuMs);
    if (result.lines === 0) throw new HttpError(400, "no_frames", "Body holds no telemetry frames");
    const summary: Summary = {
      single: false,
      "parsed_data": null,
      stored: true,
      accepted: result.accepted,
      rejected: result.rejected,
      errors: result.errors,
      // The answer's time, not the request's: a stream answers up to max_seconds after it began.
      timestamp: deps.now().toISOString(),
    };
    const stream = {
      chunks: result.chunks,
      lines: result.lines,
      ended: result.ended,
      "duration_ms": REAL_STREAM_CLOCK.now() - started,
      "cpu_ms": Math.round(result.cpuMs),
      // Where the device resumes: the newest recorded_at stored, i.e. after its first `lines`.
      "resume_after": result.resumeAfter,
    };
    return respond(summary, result.last?.result ?? null, false, { stream });
  }

  return withBoundary("telemetry-parse", deps.logger, async (request, context) => {
    requireMethod(request, "POST", "GET");
    const device = await authenticateDevice(request, {
      db: deps.db,
      cache: deps.cache,
      cacheSeconds: deps.config.limits.deviceAuthCacheSeconds,
      local: localDevices,
      unknownKeys,
      now: deps.now,
    });
    context.log.device_id = device.id;
    const receivedAt = deps.now();
    // Every request counts, the resume point's too (it unpacks the device's staged requests).
    rateLimiter.admit(device.id, receivedAt, { requests: 1, frames: 0, bytes: 0 });
    if (request.method === "GET") {
      const answer = await resumePoint(device);
      // No ingest call to ride along with: the GET's count goes to Redis after the answer.
      runAfterAnswer(syncInBackground(rateLimiter, deps.cache));
      return answer;
    }
    const declaredBytes = Number(request.headers.get("content-length") ?? 0);
    if (declaredBytes > 0) rateLimiter.check(device.id, receivedAt, { bytes: declaredBytes });

    const contentType = checkTelemetryContentType(request);
    const url = new URL(request.url);
    const store = storeParam(url);
    const clientKey = idempotencyKey(request);
    const streaming = streamParam(url);
    const maxSeconds = boundParam(url, "max_seconds", deps.config.limits.stream.maxSeconds);
    const cpuBudgetMs = boundParam(url, "max_cpu_ms", deps.config.limits.stream.cpuBudgetMs);
    if (streaming) {
      if (!store) {
        throw new HttpError(400, "invalid_parameter", `Parameter "store=false" cannot stream`, {
          parameter: "store",
        });
      }
      if (clientKey !== null) {
        throw new HttpError(
          400,
          "invalid_header",
          "Header Idempotency-Key does not apply to a streaming request: each stored chunk has " +
            "its own key, and re-sent frames are dropped by (device_id, recorded_at)",
          { header: "Idempotency-Key" },
        );
      }
    }
    // Admitted before a byte of the body is read; held until the request is answered.
    const ticket = admission.admit(
      declaredLength(request) ?? (streaming ? 0 : UNDECLARED_BODY_RESERVE_BYTES),
    );
    try {
      if (streaming) {
        return await streamRequest(request, device, receivedAt, {
          maxSeconds,
          cpuBudgetMs,
          ticket,
          context,
        });
      }
      return await ingestBody(request, contentType, device, receivedAt, {
        store,
        clientKey,
        ticket,
        context,
      });
    } finally {
      ticket.release();
    }
  }, deps.now);

  /** POST: the whole body read and parsed within its caps, then stored in one ingest job. */
  async function ingestBody(
    request: Request,
    contentType: string,
    device: Device,
    receivedAt: Date,
    { store, clientKey, ticket, context }: {
      store: boolean;
      clientKey: string | null;
      ticket: AdmissionTicket;
      context: { log: Record<string, unknown> };
    },
  ): Promise<Response> {
    // Frames are encoded as the body is parsed and their rows let go (shared/ingest/ingest_store.ts
    // JobFrames): a large body is held as its literal's bytes, not as row objects.
    // Made into live entries whether or not someone watches: a viewer who just came sees the
    // next request's frames (a stream skips them while no one watches: streamRequest).
    const frames = createJobFrames(receiveClock);
    const parsed = await readTelemetryBody(
      request,
      contentType,
      {
        maxBytes: deps.config.limits.maxBodyBytes,
        maxLines: deps.config.limits.maxLines,
        timeoutMs: deps.config.limits.bodyTimeoutMs,
        ticket,
      },
      receivedAt,
      (part) => frames.add(part),
    );
    context.log.frames = frames.count;
    context.log.rejected = parsed.rejects.length;
    if (frames.count + parsed.rejects.length === 0) {
      throw new HttpError(400, "no_frames", "Body holds no telemetry frames");
    }
    // Rejected lines count as frames too: they cost parsing and are kept in telemetry_rejects.
    // `store=false` counts as well, since it costs the same parsing.
    rateLimiter.admit(device.id, receivedAt, {
      // The rows went to the job as they were parsed (parsed.frames is empty): count those.
      frames: frames.count + parsed.rejects.length,
      bytes: parsed.bytes,
    });

    const summary = summarise(parsed, frames, store, receivedAt.toISOString());
    if (!store) return respond(summary, null, false);

    // The function's own key makes its retries below safe when the client sent none.
    const job = ingestJob({
      deviceId: device.id,
      ownerId: device.ownerId,
      keyHash: device.keyHash,
      frames,
      rejects: parsed.rejects,
      idempotencyKey: clientKey ?? `auto:${crypto.randomUUID()}`,
      summary,
    });
    const answer = await withRetry(() => ingest.store(job), {
      maxRetries: deps.config.limits.maxRetries,
    }).catch((error: unknown) => storeFailure(error, device));
    context.log.replayed = answer.replayed;
    return respond(answer.summary as Summary, answer.result, answer.replayed);
  }
}
