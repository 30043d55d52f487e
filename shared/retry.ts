/**
 * Retries of transient database failures with exponential backoff and jitter. After the last try
 * the caller gets a 503 with Retry-After, never a 500: the device should simply send again.
 */
import { DbError } from "./db.ts";
import { HttpError } from "./http.ts";

export interface RetryOptions {
  maxRetries: number;
  baseDelayMs?: number;
  /** Injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation`, retrying transient DbErrors up to `maxRetries` times.
 * @throws {HttpError} 503 with Retry-After once retries are used up
 * @throws the operation's own error when it is not transient
 */
export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { maxRetries, baseDelayMs = 100, sleep = realSleep } = options;
  for (let attempt = 0;; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof DbError) || !error.transient) throw error;
      if (attempt >= maxRetries) {
        throw new HttpError(
          503,
          "database_unavailable",
          `The database did not answer after ${maxRetries + 1} attempts; send again later`,
          undefined,
          { "retry-after": "5" },
        );
      }
      await sleep(baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2));
    }
  }
}
