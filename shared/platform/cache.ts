/**
 * The cache in front of Postgres. Redis never holds the only copy of anything: every failure
 * here is logged and treated as a miss (or as "no limit"), so the API stays correct without it.
 * Keys are versioned (`telemetry:v1:<kind>:<id>`).
 *
 * What may be evicted and what may not (README, "Redis memory"): cached values (`set`), the live
 * streams and the budgets carry a TTL, so Redis's `volatile-lru` policy may drop them when it is
 * full. Limit state carries none, so no eviction policy that spares persistent keys can drop it:
 * rate counters live in one hash per minute (`addToCounters`) that the limiter deletes itself
 * once the minute is past, stream slots in a sorted set that each acquire prunes, and the
 * query-cache generations for as long as Redis runs.
 */
import { Redis } from "@upstash/redis";
import type { Logger } from "./log.ts";

export interface Cache {
  /** The cached text, or null on a miss or when the cache is down. */
  get(key: string): Promise<string | null>;
  /** Several keys in one round trip; a missing or failed key is null. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  /**
   * Reads a generation counter and the entry kept under that generation, in one round trip: the
   * entry's key is `prefix + generation + suffix`, the generation "0" when the counter was never
   * bumped. A miss is `value: null`; a cache that is down gives generation "0" and a miss.
   */
  getAtGeneration(
    counterKey: string,
    prefix: string,
    suffix: string,
  ): Promise<{ generation: string; value: string | null }>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  del(...keys: string[]): Promise<void>;
  /**
   * Adds to counters in one round trip: each increment to its field of a hash, each bump by one,
   * and deletes the `drop` keys (past minutes' hashes). Nothing here gets a TTL: limit state and
   * generations must survive any eviction (see the module comment).
   * @returns the increments' new totals, in order, or null when the cache is down
   */
  addToCounters(
    increments: readonly CounterIncrement[],
    bumps: readonly string[],
    drop?: readonly string[],
  ): Promise<number[] | null>;
  /**
   * addToCounters, and the values of `keys` read in the same round trip (ingest reads the live
   * feed's watch marks with its counters: shared/live/live_feed.ts liveWatchKey).
   * @returns the totals and the keys' values in order (null: absent), or null when down
   */
  addToCountersAndGet(
    increments: readonly CounterIncrement[],
    bumps: readonly string[],
    drop: readonly string[],
    keys: readonly string[],
  ): Promise<{ totals: number[]; values: (string | null)[] } | null>;
  /** One counter of a hash (0 when absent), or null when the cache is down. */
  readCounter(hash: string, field: string): Promise<number | null>;
  /**
   * Stores a value with a TTL unless it would take one of the budgets over its limit: each
   * budget is a byte counter (with the given TTL) that the value's length is added to first.
   * @returns whether the value was stored (false over a budget or when the cache is down)
   */
  setWithinBudget(
    key: string,
    value: string,
    ttlSeconds: number,
    budgets: readonly Budget[],
  ): Promise<boolean>;
  /**
   * Takes one of `cap` slots of a sorted set (member scored by when it lapses, so a holder that
   * died frees its slot then). Lapsed members are removed first.
   * @returns acquired, or when the soonest slot lapses (ms) when all are taken; null when down
   */
  acquireSlot(
    key: string,
    member: string,
    cap: number,
    nowMs: number,
    lapsesAtMs: number,
  ): Promise<{ acquired: true } | { acquired: false; freeAtMs: number } | null>;
  /** Gives a slot back. */
  releaseSlot(key: string, member: string): Promise<void>;
  /** True when the cache answers. */
  ping(): Promise<boolean>;
}

/** An amount to add to one field of a counter hash. */
export interface CounterIncrement {
  hash: string;
  field: string;
  by: number;
}

/** A byte budget: a counter that may reach `limit` within its TTL. */
export interface Budget {
  key: string;
  limit: number;
  ttlSeconds: number;
}

/** Builds a versioned cache key from its kind and parts. */
export function cacheKey(kind: string, ...parts: string[]): string {
  return ["telemetry", "v1", kind, ...parts].join(":");
}

/**
 * One round trip for a generational read: two GETs in a row would cost two (about 1 ms each
 * through the REST API, half of a cached answer's time). The entry's key is built in the script,
 * so it is not among KEYS: fine on Upstash's single-shard databases, not on a Redis Cluster.
 */
const GET_AT_GENERATION = `
local generation = redis.call("GET", KEYS[1]) or "0"
return {generation, redis.call("GET", ARGV[1] .. generation .. ARGV[2])}`;

/**
 * KEYS[1] the entry, KEYS[2..] its budgets; ARGV: value, TTL, then each budget's limit and TTL.
 * A budget is charged only when every budget has room, so a refused value costs none of them.
 */
const SET_WITHIN_BUDGET = `
local size = string.len(ARGV[1])
for i = 2, #KEYS do
  local used = tonumber(redis.call("GET", KEYS[i]) or "0")
  if used + size > tonumber(ARGV[1 + (i - 1) * 2]) then return 0 end
end
for i = 2, #KEYS do
  redis.call("INCRBY", KEYS[i], size)
  redis.call("EXPIRE", KEYS[i], ARGV[2 + (i - 1) * 2], "NX")
end
redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[2])
return 1`;

/** KEYS[1] the slots; ARGV: member, cap, now, lapses at. Returns 1, or the soonest lapse. */
const ACQUIRE_SLOT = `
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[3])
if redis.call("ZCARD", KEYS[1]) >= tonumber(ARGV[2]) then
  local soonest = redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
  return {0, soonest[2]}
end
redis.call("ZADD", KEYS[1], ARGV[4], ARGV[1])
return {1, 0}`;

/** A Cache on Upstash Redis (or the local stack's Upstash-compatible endpoint). */
export function createUpstashCache(
  options: { url: string; token: string; timeoutMs?: number },
  logger: Logger,
): Cache {
  const redis = new Redis({
    url: options.url,
    token: options.token,
    // Values are our own JSON text; no retries, so a Redis outage costs one failed call, not five.
    automaticDeserialization: false,
    // Our values are UTF-8 text, which needs no base64 transport encoding; decoding base64 in the
    // client costs about 18 ms for a 150 kB cached page (measured), answering it plain about 2 ms.
    responseEncoding: false,
    retry: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(options.timeoutMs ?? 1_000),
  });
  const failed = <T>(operation: string, fallback: T) => (error: unknown): T => {
    logger.warn("cache unavailable", {
      operation,
      error: error instanceof Error ? error.message : String(error),
    });
    return fallback;
  };
  const asText = (value: unknown) => (value === null || value === undefined ? null : String(value));
  const miss = { generation: "0", value: null };
  const addToCountersAndGet: Cache["addToCountersAndGet"] = (increments, bumps, drop, keys) => {
    if (increments.length === 0 && bumps.length === 0 && keys.length === 0) {
      return Promise.resolve({ totals: [], values: [] });
    }
    const pipeline = redis.pipeline();
    for (const { hash, field, by } of increments) pipeline.hincrby(hash, field, by);
    for (const key of bumps) pipeline.incr(key);
    if (drop.length > 0) pipeline.unlink(...drop);
    if (keys.length > 0) pipeline.mget(...keys);
    return pipeline.exec<unknown[]>().then(
      (replies) => ({
        totals: increments.map((_, i) => Number(replies[i])),
        values: keys.length === 0 ? [] : (replies.at(-1) as unknown[]).map(asText),
      }),
      failed("counters", null),
    );
  };
  return {
    get: (key) => redis.get<string>(key).then(asText, failed("get", null)),
    getMany: (keys) =>
      keys.length === 0 ? Promise.resolve([]) : redis.mget<(string | null)[]>(...keys).then(
        (values) => values.map(asText),
        failed("mget", keys.map(() => null)),
      ),
    getAtGeneration: (counterKey, prefix, suffix) =>
      redis.eval<string[], [string | null, string | null]>(GET_AT_GENERATION, [counterKey], [
        prefix,
        suffix,
      ]).then(
        ([generation, value]) => ({ generation: asText(generation) ?? "0", value: asText(value) }),
        failed("getAtGeneration", miss),
      ),
    set: (key, value, ttlSeconds) =>
      redis.set(key, value, { ex: ttlSeconds }).then(() => {}, failed("set", undefined)),
    del: (...keys) =>
      keys.length === 0
        ? Promise.resolve()
        : redis.del(...keys).then(() => {}, failed("del", undefined)),
    addToCounters: (increments, bumps, drop = []) =>
      addToCountersAndGet(increments, bumps, drop, []).then((counted) => counted?.totals ?? null),
    addToCountersAndGet,
    readCounter: (hash, field) =>
      redis.hget<string>(hash, field).then((value) => Number(value ?? 0), failed("hget", null)),
    setWithinBudget: (key, value, ttlSeconds, budgets) =>
      redis.eval<string[], number>(
        SET_WITHIN_BUDGET,
        [key, ...budgets.map((budget) => budget.key)],
        [
          value,
          String(ttlSeconds),
          ...budgets.flatMap((b) => [String(b.limit), String(b.ttlSeconds)]),
        ],
      ).then((stored) => Number(stored) === 1, failed("setWithinBudget", false)),
    acquireSlot: (key, member, cap, nowMs, lapsesAtMs) =>
      redis.eval<string[], [number, string | number]>(ACQUIRE_SLOT, [key], [
        member,
        String(cap),
        String(nowMs),
        String(lapsesAtMs),
      ]).then(
        ([acquired, soonest]) =>
          acquired === 1
            ? { acquired: true as const }
            : { acquired: false as const, freeAtMs: Number(soonest) },
        failed("acquireSlot", null),
      ),
    releaseSlot: (key, member) =>
      redis.zrem(key, member).then(() => {}, failed("releaseSlot", undefined)),
    ping: () => redis.ping().then(() => true, () => false),
  };
}

/** An in-memory Cache with an injected clock, for unit tests and for running without Redis. */
export function createMemoryCache(now: () => number = Date.now): Cache {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const hashes = new Map<string, Map<string, number>>();
  const slots = new Map<string, Map<string, number>>();
  const read = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) entries.delete(key);
    return entries.get(key)?.value ?? null;
  };
  const add = (key: string, by: number, ttlSeconds: number | null) => {
    const next = Number(read(key) ?? 0) + by;
    const expiresAt = entries.get(key)?.expiresAt ??
      (ttlSeconds === null ? Infinity : now() + ttlSeconds * 1000);
    entries.set(key, { value: String(next), expiresAt });
    return next;
  };
  const count = (
    increments: readonly CounterIncrement[],
    bumps: readonly string[],
    drop: readonly string[],
  ) => {
    const totals = increments.map(({ hash, field, by }) => {
      const fields = hashes.get(hash) ?? new Map<string, number>();
      hashes.set(hash, fields);
      const total = (fields.get(field) ?? 0) + by;
      fields.set(field, total);
      return total;
    });
    for (const key of bumps) add(key, 1, null);
    for (const key of drop) hashes.delete(key);
    return totals;
  };
  return {
    get: (key) => Promise.resolve(read(key)),
    getMany: (keys) => Promise.resolve(keys.map(read)),
    getAtGeneration: (counterKey, prefix, suffix) => {
      const generation = read(counterKey) ?? "0";
      return Promise.resolve({ generation, value: read(prefix + generation + suffix) });
    },
    set: (key, value, ttlSeconds) => {
      entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
      return Promise.resolve();
    },
    del: (...keys) => {
      for (const key of keys) entries.delete(key);
      return Promise.resolve();
    },
    addToCounters: (increments, bumps, drop = []) =>
      Promise.resolve(count(increments, bumps, drop)),
    addToCountersAndGet: (increments, bumps, drop, keys) =>
      Promise.resolve({ totals: count(increments, bumps, drop), values: keys.map(read) }),
    readCounter: (hash, field) => Promise.resolve(hashes.get(hash)?.get(field) ?? 0),
    setWithinBudget: (key, value, ttlSeconds, budgets) => {
      const used = (budget: Budget) => Number(read(budget.key) ?? 0);
      if (budgets.some((budget) => used(budget) + value.length > budget.limit)) {
        return Promise.resolve(false);
      }
      for (const budget of budgets) add(budget.key, value.length, budget.ttlSeconds);
      entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
      return Promise.resolve(true);
    },
    acquireSlot: (key, member, cap, nowMs, lapsesAtMs) => {
      const held = slots.get(key) ?? new Map<string, number>();
      slots.set(key, held);
      for (const [name, lapsesAt] of held) if (lapsesAt <= nowMs) held.delete(name);
      if (held.size >= cap) {
        return Promise.resolve({ acquired: false, freeAtMs: Math.min(...held.values()) });
      }
      held.set(member, lapsesAtMs);
      return Promise.resolve({ acquired: true });
    },
    releaseSlot: (key, member) => {
      slots.get(key)?.delete(member);
      return Promise.resolve();
    },
    ping: () => Promise.resolve(true),
  };
}

/** A Cache for when no Redis is configured: every read misses, every write is dropped. */
export function createDisabledCache(): Cache {
  return {
    get: () => Promise.resolve(null),
    getMany: (keys) => Promise.resolve(keys.map(() => null)),
    getAtGeneration: () => Promise.resolve({ generation: "0", value: null }),
    set: () => Promise.resolve(),
    del: () => Promise.resolve(),
    addToCounters: () => Promise.resolve(null),
    addToCountersAndGet: () => Promise.resolve(null),
    readCounter: () => Promise.resolve(null),
    setWithinBudget: () => Promise.resolve(false),
    acquireSlot: () => Promise.resolve(null),
    releaseSlot: () => Promise.resolve(),
    ping: () => Promise.resolve(false),
  };
}
