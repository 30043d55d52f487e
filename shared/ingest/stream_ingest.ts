/**
 * Streaming ingest: a device holds one request open and sends key:value or NDJSON lines as they
 * happen. Lines are parsed as their chunks of body arrive, and what was parsed is stored in
 * chunks, at the latest every `chunkFrames` lines or when the oldest pending line has waited
 * `chunkMs`, so frames are queryable about a second after they were sent, not at the end.
 *
 * The request is answered, with its counts, when the body ends, at its deadline (below the
 * hosted wall clock) or after `maxLines` lines, whichever comes first. At a deadline or the line
 * cap the rest of the body is not read: lines sent after it are not counted, and the device
 * resumes from its last stored recorded_at (GET telemetry-parse).
 *
 * Chunks are stored one after another: a chunk is stored before the next line is read, so the
 * answer's counts are exactly what is durable.
 */
import { HttpError } from "../platform/http.ts";
import { createStreamParser, type LineError, type ParseResult } from "./parser.ts";
import type { TelemetryReject, TelemetryRow } from "./parser.ts";
import type { ReceiveClock } from "./receive_clock.ts";

/** Lines parsed since the last stored chunk, stored as one ingest job. */
export interface StreamChunk {
  /** 0-based, in the order chunks are stored. */
  readonly number: number;
  readonly frames: readonly TelemetryRow[];
  readonly rejects: readonly TelemetryReject[];
}

/** Time as the stream reads it: injected so tests need no real waits. */
export interface StreamClock {
  /** Milliseconds, for deadlines. */
  now(): number;
  /** A promise resolved after `ms`, and how to clear its timer when it is not needed. */
  after(ms: number): { done: Promise<void>; cancel(): void };
}

/** The wall clock and real timers. */
export const REAL_STREAM_CLOCK: StreamClock = {
  now: () => Date.now(),
  after(ms) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    });
    return { done, cancel: () => clearTimeout(timer) };
  },
};

/** Why the request was answered. */
export type StreamEnd = "end_of_body" | "time_limit" | "line_limit" | "byte_limit";

export interface StreamOptions<T> {
  chunkFrames: number;
  chunkMs: number;
  maxLines: number;
  /**
   * Body bytes read at most, blank lines included: the read that would pass it is not parsed,
   * and the stream ends as at the line cap.
   */
  maxBytes: number;
  /** Told how many parsed lines wait to be stored, after each read and each stored chunk. */
  onPending?(lines: number): void;
  /** When the request must be answered (the clock's milliseconds). */
  deadline: number;
  /** When the request arrived: the parser's bound for future timestamps. */
  receivedAt: Date;
  /** Receive times for frames without a timestamp, taken as their line is read. */
  receiveClock: ReceiveClock;
  clock: StreamClock;
  /** Errors kept for the answer (all rejects are stored with their chunk). */
  maxErrors: number;
  /** Stores one chunk durably; its answer for the last chunk is returned. */
  store(chunk: StreamChunk): Promise<T>;
}

export interface StreamResult<T> {
  accepted: number;
  rejected: number;
  errors: LineError[];
  chunks: number;
  /** Non-blank lines read (accepted + rejected). */
  lines: number;
  /** Body bytes read (and parsed). */
  bytes: number;
  ended: StreamEnd;
  /** The store's answer for the last chunk, or null when nothing was stored. */
  last: T | null;
}

/**
 * Reads, parses and stores a streaming body.
 * @throws {HttpError} 400 for a body that is a JSON document rather than lines; a chunk's store
 *   failure as its HttpError, its details extended by the frames stored before it
 */
export async function ingestStream<T>(
  body: ReadableStream<Uint8Array>,
  options: StreamOptions<T>,
): Promise<StreamResult<T>> {
  const { clock, chunkFrames, chunkMs, deadline } = options;
  const parser = createStreamParser({ receivedAt: options.receivedAt });
  const decoder = new TextDecoder();
  const result: StreamResult<T> = {
    accepted: 0,
    rejected: 0,
    errors: [],
    chunks: 0,
    lines: 0,
    bytes: 0,
    ended: "end_of_body",
    last: null,
  };
  let frames: TelemetryRow[] = [];
  let rejects: TelemetryReject[] = [];
  let pendingSince: number | null = null;

  const take = (part: ParseResult): void => {
    if (part.format === "json") {
      throw new HttpError(
        400,
        "invalid_stream_body",
        "A streaming body must be key:value or NDJSON lines, one frame per line, not a JSON document",
      );
    }
    const untimestamped = part.frames.filter((frame) => !frame.timestamped).length;
    const receiveTimes = options.receiveClock.take(untimestamped);
    let next = 0;
    for (const frame of part.frames) {
      frames.push(
        frame.timestamped ? frame.row : { ...frame.row, recorded_at: receiveTimes[next++] ?? "" },
      );
    }
    rejects.push(...part.rejects);
    const room = options.maxErrors - result.errors.length;
    if (room > 0) result.errors.push(...part.errors.slice(0, room));
    result.lines += part.frames.length + part.rejects.length;
    if (pendingSince === null && frames.length + rejects.length > 0) pendingSince = clock.now();
  };

  // Stores what is pending, in slices of chunkFrames (one read may complete many lines).
  const storePending = async (): Promise<void> => {
    while (frames.length + rejects.length > 0) {
      const chunk = {
        number: result.chunks,
        frames: frames.slice(0, chunkFrames),
        rejects: frames.length < chunkFrames ? rejects : [],
      };
      try {
        result.last = await options.store(chunk);
      } catch (error) {
        throw withProgress(error, result);
      }
      frames = frames.slice(chunk.frames.length);
      if (chunk.rejects.length > 0) rejects = [];
      result.chunks++;
      result.accepted += chunk.frames.length;
      result.rejected += chunk.rejects.length;
    }
    pendingSince = null;
    options.onPending?.(0);
  };

  const reader = body.getReader();
  let read: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  let finished = false;
  try {
    for (;;) {
      const now = clock.now();
      if (now >= deadline) {
        result.ended = "time_limit";
        break;
      }
      if (pendingSince !== null && now >= pendingSince + chunkMs) {
        await storePending();
        continue;
      }
      read ??= reader.read();
      const wakeAt = Math.min(deadline, pendingSince === null ? Infinity : pendingSince + chunkMs);
      const timer = clock.after(wakeAt - now);
      const next = await Promise.race([read, timer.done.then(() => null)]);
      timer.cancel();
      if (next === null) continue;
      read = null;
      if (next.done) {
        finished = true;
        take(parser.push(decoder.decode()));
        take(parser.end());
        break;
      }
      if (result.bytes + next.value.length > options.maxBytes) {
        result.ended = "byte_limit";
        break;
      }
      result.bytes += next.value.length;
      take(parser.push(decoder.decode(next.value, { stream: true })));
      try {
        options.onPending?.(frames.length + rejects.length);
      } catch (error) {
        throw withProgress(error, result);
      }
      if (frames.length + rejects.length >= chunkFrames) await storePending();
      if (result.lines >= options.maxLines) {
        result.ended = "line_limit";
        break;
      }
    }
    await storePending();
  } finally {
    // The rest of the body is not read: its lines are not acknowledged.
    if (!finished) reader.cancel().catch(() => {});
  }
  return result;
}

/** A store failure, told how much of the stream was durable before it. */
function withProgress(error: unknown, result: StreamResult<unknown>): unknown {
  if (!(error instanceof HttpError)) return error;
  const details = typeof error.details === "object" && error.details !== null ? error.details : {};
  return new HttpError(
    error.status,
    error.code,
    `${error.message}; ${result.accepted} frames of this stream were stored before`,
    { ...details, "stored_frames": result.accepted, "stored_chunks": result.chunks },
    error.headers,
  );
}
