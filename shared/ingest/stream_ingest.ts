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
import { cpuUsage } from "node:process";
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
export type StreamEnd =
  | "end_of_body"
  | "time_limit"
  | "line_limit"
  | "cpu_limit"
  | "byte_limit";

/**
 * CPU used by this process so far, in ms (user + system). A request's charge is what the process
 * used across the request's own steps: from a read of its body until its next wait (parsing,
 * encoding, storing a chunk). Work between steps, such as the I/O of the socket, is not charged,
 * so the budget is set below the hosted 2 s.
 */
export type CpuClock = () => number;

function getrusageMs(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
}

function hasCpuUsage(): boolean {
  try {
    return Number.isFinite(getrusageMs());
  } catch {
    return false;
  }
}

/**
 * The process's CPU from getrusage (node:process), in ms. Where a runtime does not offer it, the
 * wall time of the steps stands in: never less than their CPU, so the budget still holds.
 */
export const PROCESS_CPU: CpuClock = hasCpuUsage() ? getrusageMs : () => performance.now();

/**
 * CPU (ms) held back for a step dearer than any before it. Measured on the local stack (a
 * 150 ms budget, 200 lines a read): a chunk's store cost 16-29 ms of the request's steps, but
 * 81 ms once as the final store, and 100-126 ms as a request's first (wall time alike, so on the
 * function's own thread). With room for three of the dearest step only, CI once charged 184 ms.
 * At most a quarter of the budget, so a small budget still reads something and a device that
 * resumes always makes progress.
 */
const SPIKE_ALLOWANCE_MS = 100;

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
  /** CPU (ms) the request's steps may use; the request is answered before it passes it. */
  cpuBudgetMs: number;
  cpu: CpuClock;
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
  /** CPU (ms) charged to the request's steps. */
  cpuMs: number;
  /**
   * The newest recorded_at this request stored (null: none): the device re-sends what came after
   * it, i.e. every line after the first `lines` it wrote.
   */
  resumeAfter: string | null;
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
    cpuMs: 0,
    resumeAfter: null,
  };
  // Charged per step: from the end of a wait to the start of the next one.
  let stepStarted = options.cpu();
  const chargeStep = () => {
    const now = options.cpu();
    result.cpuMs += now - stepStarted;
    stepStarted = now;
  };
  // `charged`: the step was just charged (each CPU reading costs a getrusage call, about 3 µs,
  // several times a read: 4% of a 100 Hz stream's CPU by deno --cpu-prof).
  const waitUncharged = async <W>(wait: Promise<W>, charged = false): Promise<W> => {
    if (!charged) chargeStep();
    try {
      return await wait;
    } finally {
      stepStarted = options.cpu();
    }
  };
  // The next step (a read and its parse, then a chunk's store) may cost what the dearest step so
  // far did, and the final store after it as much again, with one more for a GC pause landing in
  // either (a 150 ms budget was charged 170 ms with room for two), and SPIKE_ALLOWANCE_MS more:
  // stop reading before they could pass the budget, never in the middle of a store.
  const allowance = Math.min(SPIKE_ALLOWANCE_MS, options.cpuBudgetMs / 4);
  let dearestStep = 0;
  let chargedBefore = 0;
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
        result.last = await waitUncharged(options.store(chunk));
      } catch (error) {
        throw withProgress(error, result);
      }
      for (const frame of chunk.frames) {
        const at = frame.recorded_at;
        if (typeof at === "string" && (result.resumeAfter === null || at > result.resumeAfter)) {
          result.resumeAfter = at;
        }
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
  const wake = createWakeTimer(clock);
  let finished = false;
  try {
    for (;;) {
      const now = clock.now();
      if (now >= deadline) {
        result.ended = "time_limit";
        break;
      }
      chargeStep();
      dearestStep = Math.max(dearestStep, result.cpuMs - chargedBefore);
      chargedBefore = result.cpuMs;
      if (result.cpuMs + 3 * dearestStep + allowance >= options.cpuBudgetMs) {
        result.ended = "cpu_limit";
        break;
      }
      if (pendingSince !== null && now >= pendingSince + chunkMs) {
        await storePending();
        continue;
      }
      read ??= reader.read();
      const at = Math.min(deadline, pendingSince === null ? Infinity : pendingSince + chunkMs);
      const next = await waitUncharged(Promise.race([read, wake.at(at, now)]), true);
      if (next === null) {
        wake.fired();
        continue;
      }
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
    chargeStep();
  } finally {
    wake.cancel();
    // The rest of the body is not read: its lines are not acknowledged.
    if (!finished) reader.cancel().catch(() => {});
  }
  return result;
}

/**
 * The stream's wake-up for a pending chunk or its deadline: one timer while the time it wakes at
 * stays the same, as it does across most reads of a stream (a timer set and cleared around every
 * read was 3% of a 100 Hz stream's CPU, deno --cpu-prof).
 */
function createWakeTimer(clock: StreamClock) {
  let timer: { at: number; fired: Promise<null>; cancel(): void } | null = null;
  return {
    /** Resolves with null at `at` (clock ms; `now` is the clock's time). */
    at(at: number, now: number): Promise<null> {
      if (timer?.at !== at) {
        timer?.cancel();
        const { done, cancel } = clock.after(at - now);
        timer = { at, fired: done.then(() => null), cancel };
      }
      return timer.fired;
    },
    /** It fired: the next wait sets a new timer, even for the same time. */
    fired() {
      timer = null;
    },
    cancel() {
      timer?.cancel();
      timer = null;
    },
  };
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
