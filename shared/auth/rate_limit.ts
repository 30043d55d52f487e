/**
 * Quotas counted per subject (a device, an operator, a client address) and clock minute, in
 * several meters at once: requests, frames, bytes, queries, unknown-key lookups. To keep Redis
 * off each request's path, an isolate counts what it admitted and adds it to Redis now and then
 * (ingest: once per database call, in the pipeline that bumps the query-cache generations;
 * operators: after the answer), learning in return what every isolate has counted. So a quota
 * holds across isolates to within what the isolates admitted since their last sync.
 *
 * The counters are the fields `<meter>:<subject>` of one Redis hash per minute
 * (`telemetry:v1:limits:<minute>`), without a TTL so that no eviction policy sparing persistent
 * keys can drop them; each sync deletes the hash of the minute before last.
 *
 * With Redis down, each isolate still limits by its own count: refusing telemetry because a
 * cache is away would lose data, which is worse than letting a burst through elsewhere. Quotas
 * then loosen to N times their value with N isolates.
 */
import { cacheKey, type CounterIncrement } from "../platform/cache.ts";
import { HttpError } from "../platform/http.ts";

/** What a quota counts. */
export type Meter = "requests" | "frames" | "bytes" | "queries" | "unknown_keys";

/** A meter's limit per minute and how its refusal reads. */
export interface Quota {
  perMinute: number;
  /** The error code of the 429. */
  code: string;
  /** The message, given the limit and the seconds to wait. */
  message(perMinute: number, retryAfter: number): string;
}

export type Amounts = Partial<Record<Meter, number>>;

interface SubjectCount {
  minute: number;
  /** Per meter: all isolates' count this minute, as Redis last said, plus ours that it saw. */
  known: Map<Meter, number>;
  /** Per meter: ours this minute that Redis has not been told of yet. */
  unsynced: Map<Meter, number>;
}

export interface RateLimiter {
  /**
   * Refuses like `admit` would, without counting anything (a body's declared size, say).
   * @throws {HttpError} 429 with Retry-After (seconds to the next minute)
   */
  check(subject: string, now: Date, amounts: Amounts): void;
  /**
   * Counts the amounts for the subject, or refuses them all when a meter named in `amounts` is
   * at its limit already or its amount would take it over (checked before anything is counted).
   * Name a meter with 0 to refuse when it is used up without counting anything on it.
   * @throws {HttpError} 429 with Retry-After (seconds to the next minute)
   */
  admit(subject: string, now: Date, amounts: Amounts): void;
  /** The counts Redis has not seen yet, to send with `addToCounters`. */
  unsynced(): CounterIncrement[];
  /** The hashes of past minutes, to delete in the same call (limit state has no TTL). */
  expired(): string[];
  /** Takes Redis's totals for what `unsynced` returned (null when Redis was unreachable). */
  synced(sent: readonly CounterIncrement[], totals: readonly number[] | null): void;
}

/** The Redis hash holding every counter of one minute. */
export function limitsHashKey(minute: number): string {
  return cacheKey("limits", String(minute));
}

/** A counter's field in its minute's hash. */
export function limitsField(meter: Meter, subject: string): string {
  return `${meter}:${subject}`;
}

/** The minute a time falls in, as the counters name it. */
export function minuteOf(now: Date): number {
  return Math.floor(now.getTime() / 60_000);
}

/** Seconds from `now` to the next minute, at least 1. */
export function secondsToNextMinute(now: Date): number {
  return Math.max(1, Math.ceil((60_000 - (now.getTime() % 60_000)) / 1000));
}

/** Creates a limiter with a quota per meter; meters without one are not limited. */
export function createQuotaLimiter(quotas: Partial<Record<Meter, Quota>>): RateLimiter {
  const limited = Object.entries(quotas) as [Meter, Quota][];
  const counts = new Map<string, SubjectCount>();
  /** Subjects with counts Redis has not seen, so a sync looks at them only. */
  let dirty = new Map<string, SubjectCount>();
  /** What each `unsynced` answer counts, in its order: two syncs may be in flight at once. */
  const sentEntries = new WeakMap<
    readonly CounterIncrement[],
    { count: SubjectCount; meter: Meter }[]
  >();
  let latestMinute = 0;
  let prunedMinute = 0;

  const used = (count: SubjectCount, meter: Meter) =>
    (count.known.get(meter) ?? 0) + (count.unsynced.get(meter) ?? 0);

  function countOf(subject: string, now: Date): SubjectCount {
    const minute = minuteOf(now);
    latestMinute = Math.max(latestMinute, minute);
    let count = counts.get(subject);
    if (!count || count.minute !== minute) {
      count = { minute, known: new Map(), unsynced: new Map() };
      counts.set(subject, count);
    }
    return count;
  }

  function refuseOver(count: SubjectCount, now: Date, amounts: Amounts): void {
    for (const [meter, quota] of limited) {
      const amount = amounts[meter];
      if (amount === undefined) continue;
      const current = used(count, meter);
      if (current >= quota.perMinute || current + amount > quota.perMinute) {
        const retryAfter = secondsToNextMinute(now);
        throw new HttpError(
          429,
          quota.code,
          quota.message(quota.perMinute, retryAfter),
          { limit: quota.perMinute, used: current, requested: amount, window_s: 60 },
          { "retry-after": String(retryAfter) },
        );
      }
    }
  }

  return {
    check(subject, now, amounts) {
      refuseOver(countOf(subject, now), now, amounts);
    },
    admit(subject, now, amounts) {
      const count = countOf(subject, now);
      refuseOver(count, now, amounts);
      for (const meter in amounts) {
        const amount = amounts[meter as Meter] ?? 0;
        if (amount <= 0) continue;
        count.unsynced.set(meter as Meter, (count.unsynced.get(meter as Meter) ?? 0) + amount);
        dirty.set(subject, count);
      }
    },
    unsynced() {
      const entries: { count: SubjectCount; meter: Meter }[] = [];
      const increments: CounterIncrement[] = [];
      for (const [subject, count] of dirty) {
        const hash = limitsHashKey(count.minute);
        for (const [meter, by] of count.unsynced) {
          if (by === 0) continue;
          entries.push({ count, meter });
          increments.push({ hash, field: limitsField(meter, subject), by });
        }
      }
      dirty = new Map();
      sentEntries.set(increments, entries);
      return increments;
    },
    expired() {
      return latestMinute === 0 ? [] : [limitsHashKey(latestMinute - 2)];
    },
    synced(sent, totals) {
      const entries = sentEntries.get(sent) ?? [];
      sent.forEach((increment, i) => {
        const entry = entries[i];
        if (!entry) return;
        const { count, meter } = entry;
        count.unsynced.set(meter, (count.unsynced.get(meter) ?? 0) - increment.by);
        const total = totals?.[i];
        count.known.set(
          meter,
          total === undefined ? (count.known.get(meter) ?? 0) + increment.by : total,
        );
      });
      // Once a minute, forget subjects of past minutes so the map does not grow with every
      // subject ever seen.
      if (prunedMinute === latestMinute) return;
      prunedMinute = latestMinute;
      for (const [subject, count] of counts) {
        const pending = [...count.unsynced.values()].some((by) => by !== 0);
        if (count.minute < latestMinute - 1 && !pending) counts.delete(subject);
      }
    },
  };
}

/** The per-device quotas of telemetry-parse (README, "Limits and quotas"). */
export function deviceQuotas(limits: {
  ratePerMinute: number;
  framesPerSecond: number;
  bytesPerSecond: number;
}): Partial<Record<Meter, Quota>> {
  return {
    requests: {
      perMinute: limits.ratePerMinute,
      code: "rate_limited",
      message: (limit, retry) =>
        `Device sent more than ${limit} requests this minute; retry in ${retry} s`,
    },
    frames: {
      perMinute: limits.framesPerSecond * 60,
      code: "frame_quota_exceeded",
      message: (limit, retry) =>
        `Device would send more than ${limit} frames this minute ` +
        `(${limit / 60} frames/s); retry in ${retry} s`,
    },
    bytes: {
      perMinute: limits.bytesPerSecond * 60,
      code: "byte_quota_exceeded",
      message: (limit, retry) =>
        `Device would send more than ${limit} bytes this minute ` +
        `(${limit / 60} bytes/s); retry in ${retry} s`,
    },
  };
}

/**
 * Adds a limiter's counts to Redis without holding up the caller, and takes the totals back.
 * For limiters whose subjects have no database call to ride along with.
 */
export function syncInBackground(
  limiter: RateLimiter,
  cache: {
    addToCounters(
      i: readonly CounterIncrement[],
      b: readonly string[],
      d?: readonly string[],
    ): Promise<number[] | null>;
  },
): Promise<void> {
  const sent = limiter.unsynced();
  if (sent.length === 0) return Promise.resolve();
  return cache.addToCounters(sent, [], limiter.expired()).then((totals) =>
    limiter.synced(sent, totals)
  );
}
