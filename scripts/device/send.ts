/**
 * Sends one batch of telemetry frames to `telemetry-parse` as a field device should: NDJSON, one
 * Idempotency-Key per batch kept across its retries (so a retry after a lost answer stores
 * nothing twice), and retries with exponential backoff on 429 (at least Retry-After), 502, 503,
 * 504 and network errors. Other answers are final: retrying a 400 or 401 cannot succeed.
 *
 * Transport and clock are injected so the retry logic is unit-tested without a network or waits.
 *
 * @module
 */

/** One telemetry frame: catalogue names or aliases to values, plus `ts` and `flight_id`. */
export type Frame = Readonly<Record<string, string | number | boolean>>;

/** What the client needs of time: the current time and an abortable wait. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Sends a request and returns the answer; throws on a network error (as fetch does). */
export type Transport = (request: Request) => Promise<Response>;

export interface SendOptions {
  /** The functions base URL, e.g. http://127.0.0.1:54321/functions/v1. */
  readonly functionsUrl: string;
  readonly deviceKey: string;
  /** Attempts per batch, the first included; Infinity keeps trying (a live device). */
  readonly maxAttempts?: number;
  /** First backoff in milliseconds; doubles per attempt up to maxBackoffMs. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly transport?: Transport;
  readonly clock?: Clock;
  /** Random numbers in [0, 1) for the backoff jitter. */
  readonly random?: () => number;
  /** Aborts waiting and retrying (e.g. Ctrl-C); the batch then ends as failed. */
  readonly signal?: AbortSignal;
  /** Called before each retry, e.g. to show it. */
  readonly onRetry?: (attempt: number, reason: string, waitMs: number) => void;
}

/** A per-line problem as the API reports it. */
export interface LineProblem {
  readonly line: number;
  readonly key?: string;
  readonly reason: string;
}

/** How a batch ended. */
export type BatchOutcome =
  | {
    readonly kind: "stored";
    readonly accepted: number;
    readonly rejected: number;
    readonly errors: readonly LineProblem[];
    /** True when the API replayed the answer of an earlier try with the same key. */
    readonly replayed: boolean;
    readonly attempts: number;
  }
  | {
    /** Every frame was invalid (422): retrying cannot help. */
    readonly kind: "rejected";
    readonly rejected: number;
    readonly errors: readonly LineProblem[];
    readonly message: string;
    readonly attempts: number;
  }
  | {
    /** Not stored: a final error status, or retries used up or aborted. */
    readonly kind: "failed";
    readonly status: number | null;
    readonly message: string;
    readonly attempts: number;
  };

const RETRY_STATUSES = new Set([429, 502, 503, 504]);

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** The body of a batch: one JSON object per line. */
export function toNdjson(frames: readonly Frame[]): string {
  return frames.map((frame) => JSON.stringify(frame)).join("\n") + "\n";
}

/**
 * How long to wait before retry number `attempt` (1 for the first retry): exponential backoff
 * with jitter in [half, full], never shorter than the server's Retry-After.
 */
export function backoffMs(
  attempt: number,
  retryAfterSeconds: number | null,
  options: { baseMs: number; maxMs: number; random: () => number },
): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
  const jittered = exponential * (0.5 + options.random() / 2);
  return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000);
}

/** Retry-After in seconds (the delta-seconds form, which this API sends), else null. */
export function parseRetryAfter(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

interface ApiBody {
  accepted?: number;
  rejected?: number;
  errors?: LineProblem[];
  error?: { message?: string; details?: { rejected?: number; errors?: LineProblem[] } };
}

async function readBody(response: Response): Promise<ApiBody> {
  const text = await response.text();
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === "object" && body !== null ? body : {};
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}

/**
 * Sends `frames` as one request, retrying transient failures with the same Idempotency-Key.
 *
 * @param frames The batch, in order; at most the API's line limit (10,000).
 * @param idempotencyKey Kept across retries; a new batch needs a new key.
 */
export async function sendBatch(
  frames: readonly Frame[],
  idempotencyKey: string,
  options: SendOptions,
): Promise<BatchOutcome> {
  const transport = options.transport ?? fetch;
  const clock = options.clock ?? systemClock;
  const maxAttempts = options.maxAttempts ?? 8;
  const backoff = {
    baseMs: options.baseBackoffMs ?? 500,
    maxMs: options.maxBackoffMs ?? 30_000,
    random: options.random ?? Math.random,
  };
  const body = toNdjson(frames);
  let reason = "";
  let status: number | null = null;
  for (let attempt = 1;; attempt++) {
    let retryAfter: number | null = null;
    try {
      const response = await transport(
        new Request(`${options.functionsUrl}/telemetry-parse`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${options.deviceKey}`,
            "content-type": "application/x-ndjson",
            "idempotency-key": idempotencyKey,
          },
          body,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      status = response.status;
      const answer = await readBody(response);
      if (response.ok) {
        return {
          kind: "stored",
          accepted: answer.accepted ?? frames.length,
          rejected: answer.rejected ?? 0,
          errors: answer.errors ?? [],
          replayed: response.headers.get("idempotent-replayed") === "true",
          attempts: attempt,
        };
      }
      const message = answer.error?.message ?? `HTTP ${response.status}`;
      if (response.status === 422) {
        return {
          kind: "rejected",
          rejected: answer.error?.details?.rejected ?? frames.length,
          errors: answer.error?.details?.errors ?? [],
          message,
          attempts: attempt,
        };
      }
      if (!RETRY_STATUSES.has(response.status)) {
        return { kind: "failed", status: response.status, message, attempts: attempt };
      }
      reason = `${response.status} ${message}`;
      retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    } catch (error) {
      if (options.signal?.aborted) {
        return { kind: "failed", status: null, message: "Aborted", attempts: attempt };
      }
      status = null;
      reason = `network error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (attempt >= maxAttempts || options.signal?.aborted) {
      return {
        kind: "failed",
        status,
        message: `Gave up after ${attempt} attempts: ${reason}`,
        attempts: attempt,
      };
    }
    const wait = backoffMs(attempt, retryAfter, backoff);
    options.onRetry?.(attempt, reason, wait);
    await clock.sleep(wait, options.signal);
    if (options.signal?.aborted) {
      return {
        kind: "failed",
        status,
        message: `Aborted while retrying: ${reason}`,
        attempts: attempt,
      };
    }
  }
}
