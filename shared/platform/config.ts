/**
 * Typed configuration, parsed once per isolate from the environment. Code reads Config, never
 * Deno.env, so tests pass a plain record.
 */
import type { AdmissionBudget } from "./admission.ts";
import type { Jwk } from "./env_schema.ts";
import { envSchema } from "./env_schema.ts";

export interface Config {
  supabaseUrl: string;
  /** A key PostgREST takes as anon: the publishable key, else the legacy anon key. */
  anonKey: string;
  /** A key PostgREST takes as service_role: the secret key, else the legacy service_role key. */
  serviceKey: string;
  publishableKeys: string[];
  secretKeys: string[];
  /** Legacy tokens verify with it; unset on projects that moved to asymmetric keys only. */
  jwtSecret: string | undefined;
  jwks: Jwk[];
  /** Fetched (and cached) for an ES256 token whose kid is not in `jwks`. */
  jwksUrl: string | undefined;
  /** The `iss` values a token may carry; empty: not checked. */
  jwtIssuers: string[];
  redis: { url: string; token: string } | null;
  /** The read replica's API endpoint and how far behind it may be; null: no replica. */
  replica: { url: string; maxLagSeconds: number } | null;
  supabaseProjectId: string;
  limits: {
    maxBodyBytes: number;
    maxLines: number;
    bodyTimeoutMs: number;
    ratePerMinute: number;
    framesPerSecond: number;
    bytesPerSecond: number;
    unknownKeyLookupsPerMinute: number;
    operatorQueriesPerMinute: number;
    operatorMaxLiveStreams: number;
    queryCacheBytesPerUser: number;
    queryCacheBytesTotal: number;
    maxRetries: number;
    deviceAuthCacheSeconds: number;
    queryCacheSeconds: number;
    healthMaxPendingAgeSeconds: number;
    stream: StreamLimits;
    /** Bodies in flight per isolate (admission control). */
    inFlight: AdmissionBudget;
  };
}

/** A streaming request's bounds (see shared/ingest/stream_ingest.ts). */
export interface StreamLimits {
  /** The longest a streaming request is read before it is answered. */
  maxSeconds: number;
  /** Frames parsed are stored at the latest when this many are pending ... */
  chunkFrames: number;
  /** ... or when the oldest pending one has waited this long. */
  chunkMs: number;
  /** Lines read before the request is answered, whatever the time. */
  maxLines: number;
  /** CPU (ms) the request's own steps may use before it is answered, whatever the time. */
  cpuBudgetMs: number;
  /** Body bytes read before the request is answered, blank lines included. */
  maxBytes: number;
}

/** Thrown at cold start when the environment is incomplete; names every bad variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Parses and checks the environment.
 * @throws {ConfigError} naming each missing or malformed variable
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) =>
      `${issue.path.join(".") || "environment"}: ${issue.message}`
    );
  // The pairs below are checked on the raw record too, so that one message names everything.
  const has = (name: string) => (env[name] ?? "") !== "";
  if (!has("SUPABASE_PUBLISHABLE_KEYS") && !has("SUPABASE_ANON_KEY")) {
    problems.push("SUPABASE_PUBLISHABLE_KEYS or SUPABASE_ANON_KEY: one is required");
  }
  if (!has("SUPABASE_SECRET_KEYS") && !has("SUPABASE_SERVICE_ROLE_KEY")) {
    problems.push("SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY: one is required");
  }
  if (has("UPSTASH_REDIS_REST_URL") && !has("UPSTASH_REDIS_REST_TOKEN")) {
    problems.push("UPSTASH_REDIS_REST_TOKEN: required when UPSTASH_REDIS_REST_URL is set");
  }
  const e = parsed.success ? parsed.data : null;
  const anonKey = e?.SUPABASE_PUBLISHABLE_KEYS?.default ?? e?.SUPABASE_ANON_KEY;
  const serviceKey = e?.SUPABASE_SECRET_KEYS?.default ?? e?.SUPABASE_SERVICE_ROLE_KEY;
  if (e && !anonKey && has("SUPABASE_PUBLISHABLE_KEYS")) {
    problems.push('SUPABASE_PUBLISHABLE_KEYS: needs a "default" key');
  }
  if (e && !serviceKey && has("SUPABASE_SECRET_KEYS")) {
    problems.push('SUPABASE_SECRET_KEYS: needs a "default" key');
  }
  if (!e || !anonKey || !serviceKey || problems.length > 0) {
    throw new ConfigError(`Invalid environment: ${problems.join("; ")}`);
  }
  const publishableKeys = Object.values(e.SUPABASE_PUBLISHABLE_KEYS ?? {});
  const secretKeys = Object.values(e.SUPABASE_SECRET_KEYS ?? {});
  const host = new URL(e.SUPABASE_URL).hostname;
  return {
    supabaseUrl: e.SUPABASE_URL,
    anonKey,
    serviceKey,
    publishableKeys: [...publishableKeys, ...(e.SUPABASE_ANON_KEY ? [e.SUPABASE_ANON_KEY] : [])],
    secretKeys: [
      ...secretKeys,
      ...(e.SUPABASE_SERVICE_ROLE_KEY ? [e.SUPABASE_SERVICE_ROLE_KEY] : []),
    ],
    jwtSecret: e.SUPABASE_JWT_SECRET,
    jwks: e.SUPABASE_JWKS ?? [],
    jwksUrl: e.SUPABASE_JWKS_URL,
    jwtIssuers: e.SUPABASE_JWT_ISSUERS ?? [],
    redis: e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN
      ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN }
      : null,
    replica: e.SUPABASE_READ_REPLICA_URL
      ? { url: e.SUPABASE_READ_REPLICA_URL, maxLagSeconds: e.REPLICA_MAX_LAG_SECONDS }
      : null,
    // Hosted URLs are https://<project-ref>.supabase.co; anything else is a local stack.
    supabaseProjectId: host.endsWith(".supabase.co") ? host.split(".")[0] ?? "local" : "local",
    limits: {
      maxBodyBytes: e.TELEMETRY_MAX_BODY_BYTES,
      maxLines: e.TELEMETRY_MAX_LINES,
      bodyTimeoutMs: e.TELEMETRY_BODY_TIMEOUT_MS,
      ratePerMinute: e.TELEMETRY_RATE_LIMIT_PER_MINUTE,
      framesPerSecond: e.TELEMETRY_FRAMES_PER_SECOND,
      bytesPerSecond: e.TELEMETRY_BYTES_PER_SECOND,
      unknownKeyLookupsPerMinute: e.UNKNOWN_KEY_LOOKUPS_PER_MINUTE,
      operatorQueriesPerMinute: e.OPERATOR_QUERIES_PER_MINUTE,
      operatorMaxLiveStreams: e.OPERATOR_MAX_LIVE_STREAMS,
      queryCacheBytesPerUser: e.QUERY_CACHE_BYTES_PER_USER,
      queryCacheBytesTotal: e.QUERY_CACHE_BYTES_TOTAL,
      maxRetries: e.TELEMETRY_MAX_RETRIES,
      deviceAuthCacheSeconds: e.DEVICE_AUTH_CACHE_SECONDS,
      queryCacheSeconds: e.QUERY_CACHE_SECONDS,
      healthMaxPendingAgeSeconds: e.HEALTH_MAX_PENDING_AGE_SECONDS,
      stream: {
        maxSeconds: e.TELEMETRY_STREAM_MAX_SECONDS,
        chunkFrames: e.TELEMETRY_STREAM_CHUNK_FRAMES,
        chunkMs: e.TELEMETRY_STREAM_CHUNK_MS,
        maxLines: e.TELEMETRY_STREAM_MAX_LINES,
        cpuBudgetMs: e.TELEMETRY_STREAM_CPU_BUDGET_MS,
        maxBytes: e.TELEMETRY_STREAM_MAX_BYTES,
      },
      inFlight: {
        maxBytes: e.TELEMETRY_INFLIGHT_MAX_BYTES,
        maxFrames: e.TELEMETRY_INFLIGHT_MAX_FRAMES,
        retryAfterSeconds: e.TELEMETRY_OVERLOAD_RETRY_AFTER_SECONDS,
      },
    },
  };
}
