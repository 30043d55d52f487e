/**
 * The device client a real device integration can reuse: push frames as they are produced; the
 * client batches them (a batch leaves when it is full or its oldest frame has waited `lingerMs`),
 * sends each batch with its own Idempotency-Key and retries it until it is stored (see
 * {@link sendBatch}), and keeps later frames in a bounded local buffer meanwhile, so an API that
 * is down for a while loses nothing but the oldest frames beyond `maxBufferedFrames`. After an
 * outage the backlog leaves in large batches, up to `maxBatchFrames` each, so it drains quickly.
 *
 * With a {@link Spool} the backlog is on disk as well: a frame is produced only once it is
 * fsync'd there, a batch's key is written before its first send, and a client started again on
 * the same spool (after a reboot or a kill) sends what was never acknowledged, the unanswered
 * batch under its first key. The memory buffer then holds at most `maxBufferedFrames` of the
 * spool's frames and is refilled from disk as batches leave.
 *
 * @module
 */
import { type BatchOutcome, type Frame, sendBatch, type SendOptions, systemClock } from "./send.ts";
import type { Spool } from "./spool.ts";

export type { BatchOutcome, Frame };
/** A device that streams its frames as they happen (one open request at a time) uses this. */
export { streamFrames, type StreamOptions, type StreamStats } from "./stream.ts";

export interface DeviceClientOptions extends SendOptions {
  /** Most frames in one request (the API takes up to 10,000). */
  readonly maxBatchFrames?: number;
  /** How long the oldest buffered frame waits for company before a batch leaves. */
  readonly lingerMs?: number;
  /** Frames kept while the API is unreachable; beyond this the oldest are dropped. */
  readonly maxBufferedFrames?: number;
  /** A fresh Idempotency-Key for each batch. */
  readonly newKey?: () => string;
  /** Called after each batch has ended. */
  readonly onBatch?: (outcome: BatchOutcome, frames: number) => void;
  /** Keep the backlog on disk too, so that it survives a crash (see {@link Spool}). */
  readonly spool?: Spool;
}

/** Counts since the client was made. */
export interface DeviceClientStats {
  /** Frames pushed. */
  produced: number;
  /** Frames the API stored. */
  accepted: number;
  /** Frames the API refused as invalid (they are in telemetry_rejects). */
  rejected: number;
  /** Frames of batches that failed for good (a final error, or retries used up). */
  failed: number;
  /** Frames dropped because the buffer was full. */
  dropped: number;
  /** Requests sent, retries included. */
  requests: number;
  /** The last failure, for display. */
  lastError: string | null;
}

export class DeviceClient {
  readonly stats: DeviceClientStats = {
    produced: 0,
    accepted: 0,
    rejected: 0,
    failed: 0,
    dropped: 0,
    requests: 0,
    lastError: null,
  };
  readonly #options: DeviceClientOptions;
  readonly #buffer: Frame[] = [];
  /** When each buffered frame was pushed, for the linger rule. */
  readonly #pushedAt: number[] = [];
  /** With a spool: the seq of the first buffered frame, and of the next frame not in memory. */
  #bufferSeq = 0;
  #nextUnbuffered = 0;
  readonly #abort = new AbortController();
  #wake: (() => void) | null = null;
  #closing = false;
  #pump: Promise<void> | null = null;
  #inFlight = 0;

  constructor(options: DeviceClientOptions) {
    this.#options = { ...options, signal: options.signal ?? this.#abort.signal };
    const spool = options.spool;
    if (spool) {
      this.#bufferSeq = this.#nextUnbuffered = spool.acked + 1;
      this.stats.dropped = spool.dropped;
    }
  }

  /** Frames waiting in the buffer (or the spool) or in the batch being sent. */
  get pending(): number {
    return (this.#options.spool?.unacked ?? this.#buffer.length) +
      (this.#options.spool ? 0 : this.#inFlight);
  }

  /**
   * Queues a frame; drops the oldest queued frame when the buffer is full. With a spool the
   * frame is written and fsync'd first, and the buffer only mirrors the spool's oldest frames.
   */
  push(frame: Frame): void {
    if (this.#closing) throw new TypeError("Cannot push a frame: the device client is closed");
    const spool = this.#options.spool;
    if (spool) {
      const seq = spool.append([frame]);
      this.stats.produced++;
      this.stats.dropped = spool.dropped;
      const max = this.#options.maxBufferedFrames ?? 50_000;
      if (seq === this.#nextUnbuffered && this.#buffer.length < max) {
        this.#buffer.push(frame);
        this.#pushedAt.push(this.#clock().now());
        this.#nextUnbuffered = seq + 1;
      }
      this.#notify();
      return;
    }
    this.stats.produced++;
    this.#buffer.push(frame);
    this.#pushedAt.push(this.#clock().now());
    const max = this.#options.maxBufferedFrames ?? 50_000;
    while (this.#buffer.length > max) {
      this.#buffer.shift();
      this.#pushedAt.shift();
      this.stats.dropped++;
    }
    this.#notify();
  }

  /** Starts sending in the background. */
  start(): void {
    this.#pump ??= this.#run();
  }

  /**
   * Sends what is buffered, then stops. Frames still unsent after `timeoutMs` (an API that stays
   * down) are given up and counted as failed.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.#closing = true;
    this.start();
    this.#notify();
    const timer = setTimeout(() => this.#abort.abort(), timeoutMs);
    try {
      await this.#pump;
    } finally {
      clearTimeout(timer);
    }
  }

  #clock() {
    return this.#options.clock ?? systemClock;
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = null;
  }

  /** Waits for a push or close, or at most `ms` when given. */
  async #idle(ms?: number): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.#wake = resolve));
    if (ms === undefined) return await woken;
    // The timer is cancelled once woken, so no wait outlives the client.
    const cancel = new AbortController();
    await Promise.race([woken, this.#clock().sleep(ms, cancel.signal)]);
    cancel.abort();
  }

  async #run(): Promise<void> {
    const maxBatch = this.#options.maxBatchFrames ?? 500;
    const linger = this.#options.lingerMs ?? 1_000;
    const aborted = () => this.#options.signal?.aborted === true;
    while (!aborted()) {
      this.#refill();
      if (this.#buffer.length === 0) {
        if (this.#closing) break;
        await this.#idle();
        continue;
      }
      const waited = this.#clock().now() - (this.#pushedAt[0] ?? 0);
      if (!this.#closing && this.#buffer.length < maxBatch && waited < linger) {
        await this.#idle(linger - waited);
        continue;
      }
      const pending = this.#options.spool?.pendingBatch();
      const size = pending ? pending.last - pending.first + 1 : maxBatch;
      const batch = this.#buffer.splice(0, size);
      this.#pushedAt.splice(0, batch.length);
      this.#inFlight = batch.length;
      const key = pending?.key ?? this.#options.newKey?.() ?? crypto.randomUUID();
      const first = this.#bufferSeq;
      this.#bufferSeq += batch.length;
      if (this.#options.spool && !pending) {
        this.#options.spool.assignKey({ key, first, last: first + batch.length - 1 });
      }
      const outcome = await sendBatch(batch, key, { maxAttempts: Infinity, ...this.#options });
      this.#inFlight = 0;
      // Aborted (shutting down): the batch stays in the spool, to be sent under its key later.
      if (this.#options.spool && outcome.kind === "failed" && aborted()) break;
      this.#options.spool?.ack(first + batch.length - 1);
      this.#count(outcome, batch.length);
    }
    if (this.#options.spool) {
      // What is left stays on disk for the next start: it is neither failed nor lost.
      this.#buffer.length = 0;
      this.#pushedAt.length = 0;
      return;
    }
    // Aborted: what is left was never stored.
    this.stats.failed += this.#buffer.length;
    this.#buffer.length = 0;
    this.#pushedAt.length = 0;
  }

  /** With a spool: brings the spool's oldest unsent frames (e.g. recovered ones) into memory. */
  #refill(): void {
    const spool = this.#options.spool;
    if (!spool || this.#buffer.length > 0 || this.#nextUnbuffered >= spool.next) return;
    this.#bufferSeq = Math.max(this.#bufferSeq, spool.acked + 1);
    const frames = spool.read(this.#bufferSeq, this.#options.maxBufferedFrames ?? 50_000);
    for (const { frame } of frames) {
      this.#buffer.push(frame);
      this.#pushedAt.push(0); // waited long enough already
    }
    const firstSeq = frames[0]?.seq;
    if (firstSeq !== undefined) this.#bufferSeq = firstSeq;
    this.#nextUnbuffered = this.#bufferSeq + frames.length;
    this.stats.dropped = spool.dropped;
  }

  #count(outcome: BatchOutcome, frames: number): void {
    this.stats.requests += outcome.attempts;
    if (outcome.kind === "stored") {
      this.stats.accepted += outcome.accepted;
      this.stats.rejected += outcome.rejected;
      if (outcome.rejected > 0) this.stats.lastError = outcome.errors[0]?.reason ?? null;
    } else if (outcome.kind === "rejected") {
      this.stats.rejected += outcome.rejected;
      this.stats.lastError = outcome.message;
    } else {
      this.stats.failed += frames;
      this.stats.lastError = outcome.message;
    }
    this.#options.onBatch?.(outcome, frames);
  }
}
