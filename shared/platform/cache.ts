/**
 * The cache in front of Postgres. Redis never holds the only copy of anything: every failure
 * here is logged and treated as a miss (or as "no limit"), so the API stays correct without it.
 * Keys are versioned (`telemetry:v1:<kind>:<id>`) and every write carries a TTL.
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
   * Adds to counters in one round trip: each increment by its amount (a new counter gets its
   * TTL), each bump by one (no TTL: generations live as long as Redis does).
   * @returns the increments' new totals, in order, or null when the cache is down
   */
  addToCounters(
    increments: readonly CounterIncrement[],
    bumps: readonly string[],
  ): Promise<number[] | null>;
  /** True when the cache answers. */
  ping(): Promise<boolean>;
}

export interface CounterIncrement {
  key: string;
  by: number;
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
    addToCounters: (increments, bumps) => {
      if (increments.length === 0 && bumps.length === 0) return Promise.resolve([]);
      const pipeline = redis.pipeline();
      for (const { key, by, ttlSeconds } of increments) {
        pipeline.incrby(key, by);
        pipeline.expire(key, ttlSeconds, "NX");
      }
      for (const key of bumps) pipeline.incr(key);
      return pipeline.exec<number[]>().then(
        (replies) => increments.map((_, i) => Number(replies[i * 2])),
        failed("counters", null),
      );
    },
    ping: () => redis.ping().then(() => true, () => false),
  };
}

/** An in-memory Cache with an injected clock, for unit tests and for running without Redis. */
export function createMemoryCache(now: () => number = Date.now): Cache {
  const entries = new Map<string, { value: string; expiresAt: number }>();
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
    addToCounters: (increments, bumps) => {
      const totals = increments.map(({ key, by, ttlSeconds }) => add(key, by, ttlSeconds));
      for (const key of bumps) add(key, 1, null);
      return Promise.resolve(totals);
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
    ping: () => Promise.resolve(false),
  };
}
