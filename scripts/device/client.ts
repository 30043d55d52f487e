/**
 * The device client a real device integration can reuse: push frames as they are produced; the
 * client batches them (a batch leaves when it is full or its oldest frame has waited `lingerMs`),
 * sends each batch with its own Idempotency-Key and retries it until it is stored (see
 * {@link sendBatch}), and keeps later frames in a bounded local buffer meanwhile, so an API that
 * is down for a while loses nothing but the oldest frames beyond `maxBufferedFrames`. After an
 * outage the backlog leaves in large batches, up to `maxBatchFrames` each, so it drains quickly.
 *
 * @module
 */
import { type BatchOutcome, type Frame, sendBatch, type SendOptions, systemClock } from "./send.ts";

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
  readonly #abort = new AbortController();
  #wake: (() => void) | null = null;
  #closing = false;
  #pump: Promise<void> | null = null;
  #inFlight = 0;

  constructor(options: DeviceClientOptions) {
    this.#options = { ...options, signal: options.signal ?? this.#abort.signal };
  }

  /** Frames waiting in the buffer or in the batch being sent. */
  get pending(): number {
    return this.#buffer.length + this.#inFlight;
  }

  /** Queues a frame; drops the oldest queued frame when the buffer is full. */
  push(frame: Frame): void {
    if (this.#closing) throw new TypeError("Cannot push a frame: the device client is closed");
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
    while (!aborted() && !(this.#closing && this.#buffer.length === 0)) {
      if (this.#buffer.length === 0) {
        await this.#idle();
        continue;
      }
      const waited = this.#clock().now() - (this.#pushedAt[0] ?? 0);
      if (!this.#closing && this.#buffer.length < maxBatch && waited < linger) {
        await this.#idle(linger - waited);
        continue;
      }
      const batch = this.#buffer.splice(0, maxBatch);
      this.#pushedAt.splice(0, batch.length);
      this.#inFlight = batch.length;
      const key = this.#options.newKey?.() ?? crypto.randomUUID();
      const outcome = await sendBatch(batch, key, { maxAttempts: Infinity, ...this.#options });
      this.#inFlight = 0;
      this.#count(outcome, batch.length);
    }
    // Aborted: what is left was never stored.
    this.stats.failed += this.#buffer.length;
    this.#buffer.length = 0;
    this.#pushedAt.length = 0;
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
