/**
 * The environment every function reads at cold start. Hosted Supabase sets the SUPABASE_* ones;
 * the Upstash pair and the limits are set with `supabase secrets set` (see README).
 */
import { z } from "zod";

/** A public or private key in JWK form, as found in a JWKS (SUPABASE_JWKS). */
export interface Jwk extends JsonWebKey {
  kid?: string;
}

const jsonRecord = z.string().transform((text, ctx) => {
  try {
    const value: unknown = JSON.parse(text);
    const parsed = z.record(z.string(), z.string()).safeParse(value);
    if (parsed.success) return parsed.data;
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: "custom",
    message: 'must be a JSON object of names to keys, e.g. {"default":"…"}',
  });
  return z.NEVER;
});

const jwkSchema = z.custom<Jwk>(
  (value) => typeof value === "object" && value !== null && "kty" in value,
  "each key must be a JWK with a kty",
);

const jwksJson = z.string().transform((text, ctx) => {
  try {
    const value: unknown = JSON.parse(text);
    const parsed = z.union([z.object({ keys: z.array(jwkSchema) }), z.array(jwkSchema)])
      .safeParse(value);
    if (parsed.success) return Array.isArray(parsed.data) ? parsed.data : parsed.data.keys;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: "custom", message: 'must be a JWKS: {"keys":[…]} or […]' });
  return z.NEVER;
});

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const envSchema = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_ANON_KEY: z.string().min(1).optional(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1).optional(),
  SUPABASE_PUBLISHABLE_KEYS: jsonRecord.optional(),
  SUPABASE_SECRET_KEYS: jsonRecord.optional(),
  SUPABASE_JWKS: jwksJson.optional(),
  SUPABASE_JWT_SECRET: z.string().min(32).optional(),
  // e.g. https://<ref>.supabase.co/auth/v1/.well-known/jwks.json: keys not in SUPABASE_JWKS.
  SUPABASE_JWKS_URL: z.url().optional(),
  // Comma-separated `iss` values accepted; unset: iss is not checked.
  SUPABASE_JWT_ISSUERS: z.string().transform((text) =>
    text.split(",").map((issuer) => issuer.trim()).filter((issuer) => issuer !== "")
  ).optional(),
  // A read replica's API endpoint (hosted: https://<ref>-rr-<region>-<id>.supabase.co): pages,
  // exports, rollups and flights read through it while it lags at most REPLICA_MAX_LAG_SECONDS.
  SUPABASE_READ_REPLICA_URL: z.url().optional(),
  REPLICA_MAX_LAG_SECONDS: z.coerce.number().positive().max(3600).default(5),
  UPSTASH_REDIS_REST_URL: z.url().optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  TELEMETRY_MAX_BODY_BYTES: positiveInt(5 * 1024 * 1024),
  // One request is one staged row, and a staged request holds at most 10,000 frames.
  // A slow (trickled) body is cut off after this; see shared/platform/body_deadline.ts.
  TELEMETRY_BODY_TIMEOUT_MS: positiveInt(10_000),
  TELEMETRY_MAX_LINES: z.coerce.number().int().positive().max(10_000).default(10_000),
  // Admission control (shared/platform/admission.ts): what one isolate holds at once over all
  // its requests, measured to keep a function's peak RSS under the 150 MB of the CLI's edge runtime.
  TELEMETRY_INFLIGHT_MAX_BYTES: positiveInt(8 * 1024 * 1024),
  TELEMETRY_INFLIGHT_MAX_FRAMES: positiveInt(12_000),
  TELEMETRY_OVERLOAD_RETRY_AFTER_SECONDS: positiveInt(1),
  TELEMETRY_RATE_LIMIT_PER_MINUTE: positiveInt(1_200),
  // Per-device quotas, averaged over each clock minute (README, "Limits and quotas"): far above a
  // 10 Hz drone (10 frames/s, ~5 kB/s), room for an import or a backlog after an outage.
  TELEMETRY_FRAMES_PER_SECOND: positiveInt(2_000),
  TELEMETRY_BYTES_PER_SECOND: positiveInt(2 * 1024 * 1024),
  // Device-key lookups that found no device, per client address and minute.
  UNKNOWN_KEY_LOOKUPS_PER_MINUTE: positiveInt(60),
  // Per operator (user JWT; service role is not limited).
  OPERATOR_QUERIES_PER_MINUTE: positiveInt(600),
  OPERATOR_MAX_LIVE_STREAMS: positiveInt(10),
  // Query-cache budgets, bytes of answers cached per QUERY_CACHE_SECONDS window.
  QUERY_CACHE_BYTES_PER_USER: positiveInt(8 * 1024 * 1024),
  QUERY_CACHE_BYTES_TOTAL: positiveInt(64 * 1024 * 1024),
  TELEMETRY_MAX_RETRIES: positiveInt(3),
  DEVICE_AUTH_CACHE_SECONDS: positiveInt(60),
  QUERY_CACHE_SECONDS: positiveInt(300),
  HEALTH_MAX_PENDING_AGE_SECONDS: positiveInt(300),
  // Streaming ingest (?stream=true): a request ends, with its counts, before the hosted wall
  // clock (150 s free, 400 s paid); a stored chunk is one ingest statement (at most 10,000 frames).
  TELEMETRY_STREAM_MAX_SECONDS: z.coerce.number().int().positive().max(390).default(120),
  TELEMETRY_STREAM_CHUNK_FRAMES: z.coerce.number().int().positive().max(10_000).default(500),
  TELEMETRY_STREAM_CHUNK_MS: positiveInt(1_000),
  // The CPU guard: at the measured ~180 µs per frame (100 Hz, 10 writes/s), 10,000 lines stay
  // under the hosted ~2 s of CPU per request (README, Streaming ingest).
  TELEMETRY_STREAM_MAX_LINES: positiveInt(10_000),
  // CPU a streaming request's own steps may use before it is ended cleanly (answered with its
  // counts and resume point), against the hosted 2 s per request, which would kill the isolate
  // with every request in it. Its steps were 41% of the process's CPU for a lone 100 Hz stream
  // (976 ms of 2.37 s, bench:stream): 700 ms charged is about 1.7 s in all.
  // See shared/ingest/stream_ingest.ts.
  TELEMETRY_STREAM_CPU_BUDGET_MS: z.coerce.number().int().positive().max(2_000).default(700),
  // Bytes a streaming request reads at most: blank or rejected lines cost bytes too.
  TELEMETRY_STREAM_MAX_BYTES: positiveInt(16 * 1024 * 1024),
});

export type Env = z.infer<typeof envSchema>;
