/**
 * Retries of transient database failures with exponential backoff and jitter. After the last try
 * the caller gets a 503 with Retry-After, never a 500: the device should simply send again.
 */
import { databaseUnavailable, DbError } from "./db.ts";

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
        throw databaseUnavailable(
          `The database did not answer after ${maxRetries + 1} attempts; send again later`,
        );
      }
      await sleep(baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2));
    }
  }
}
