import { assertEquals, assertThrows } from "@std/assert";
import { type Config, ConfigError, loadConfig } from "./config.ts";

const SECRET = "a-test-secret-that-is-at-least-32-characters";
const EC_KEY = { kty: "EC", crv: "P-256", kid: "key-1", x: "x-coordinate", y: "y-coordinate" };

/** The smallest environment that loads: a URL and one key of each kind. */
const MINIMAL = {
  SUPABASE_URL: "http://127.0.0.1:54321",
  SUPABASE_PUBLISHABLE_KEYS: '{"default":"sb_publishable_test"}',
  SUPABASE_SECRET_KEYS: '{"default":"sb_secret_test"}',
} as const;

const DEFAULT_LIMITS: Config["limits"] = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxLines: 10_000,
  bodyTimeoutMs: 10_000,
  ratePerMinute: 1_200,
  framesPerSecond: 2_000,
  bytesPerSecond: 2 * 1024 * 1024,
  unknownKeyLookupsPerMinute: 60,
  operatorQueriesPerMinute: 600,
  operatorMaxLiveStreams: 10,
  queryCacheBytesPerUser: 8 * 1024 * 1024,
  queryCacheBytesTotal: 64 * 1024 * 1024,
  maxRetries: 3,
  deviceAuthCacheSeconds: 60,
  queryCacheSeconds: 300,
  healthMaxPendingAgeSeconds: 300,
  stream: {
    maxSeconds: 120,
    chunkFrames: 500,
    chunkMs: 1_000,
    maxLines: 10_000,
    cpuBudgetMs: 700,
    maxBytes: 16 * 1024 * 1024,
  },
  inFlight: { maxBytes: 8 * 1024 * 1024, maxFrames: 12_000, retryAfterSeconds: 1 },
};

function configError(env: Record<string, string | undefined>): string {
  return assertThrows(() => loadConfig(env), ConfigError).message;
}

Deno.test("loadConfig applies the defaults when only the URL and keys are set", () => {
  assertEquals(loadConfig(MINIMAL), {
    supabaseUrl: "http://127.0.0.1:54321",
    anonKey: "sb_publishable_test",
    serviceKey: "sb_secret_test",
    publishableKeys: ["sb_publishable_test"],
    secretKeys: ["sb_secret_test"],
    jwtSecret: undefined,
    jwks: [],
    jwksUrl: undefined,
    jwtIssuers: [],
    redis: null,
    replica: null,
    supabaseProjectId: "local",
    limits: DEFAULT_LIMITS,
  });
});

Deno.test("loadConfig reads the read replica's endpoint and its allowed lag", () => {
  const url = "https://ref-rr-eu-west-1-abcde.supabase.co";
  assertEquals(loadConfig({ ...MINIMAL, SUPABASE_READ_REPLICA_URL: url }).replica, {
    url,
    maxLagSeconds: 5,
  });
  assertEquals(
    loadConfig({ ...MINIMAL, SUPABASE_READ_REPLICA_URL: url, REPLICA_MAX_LAG_SECONDS: "2.5" })
      .replica,
    { url, maxLagSeconds: 2.5 },
  );
  assertEquals(
    configError({ ...MINIMAL, SUPABASE_READ_REPLICA_URL: "replica", REPLICA_MAX_LAG_SECONDS: "0" }),
    "Invalid environment: SUPABASE_READ_REPLICA_URL: Invalid URL; " +
      "REPLICA_MAX_LAG_SECONDS: Too small: expected number to be >0",
  );
});

Deno.test("loadConfig keeps legacy and new keys side by side when both are set", () => {
  const config = loadConfig({
    ...MINIMAL,
    SUPABASE_PUBLISHABLE_KEYS: '{"default":"sb_publishable_a","web":"sb_publishable_b"}',
    SUPABASE_SECRET_KEYS: '{"default":"sb_secret_a","ops":"sb_secret_b"}',
    SUPABASE_ANON_KEY: "legacy.anon.jwt",
    SUPABASE_SERVICE_ROLE_KEY: "legacy.service.jwt",
    SUPABASE_JWT_SECRET: SECRET,
  });
  assertEquals(
    {
      anonKey: config.anonKey,
      serviceKey: config.serviceKey,
      publishableKeys: config.publishableKeys,
      secretKeys: config.secretKeys,
      jwtSecret: config.jwtSecret,
    },
    {
      anonKey: "sb_publishable_a",
      serviceKey: "sb_secret_a",
      publishableKeys: ["sb_publishable_a", "sb_publishable_b", "legacy.anon.jwt"],
      secretKeys: ["sb_secret_a", "sb_secret_b", "legacy.service.jwt"],
      jwtSecret: SECRET,
    },
  );
});

Deno.test("loadConfig reads the JWKS URL and the accepted issuers", () => {
  const config = loadConfig({
    ...MINIMAL,
    SUPABASE_JWKS_URL: "https://ref.supabase.co/auth/v1/.well-known/jwks.json",
    SUPABASE_JWT_ISSUERS: " https://ref.supabase.co/auth/v1, supabase,",
  });
  assertEquals([config.jwksUrl, config.jwtIssuers], [
    "https://ref.supabase.co/auth/v1/.well-known/jwks.json",
    ["https://ref.supabase.co/auth/v1", "supabase"],
  ]);
  assertEquals(
    configError({ ...MINIMAL, SUPABASE_JWKS_URL: "not a url" }).startsWith(
      "Invalid environment: SUPABASE_JWKS_URL",
    ),
    true,
  );
});

Deno.test("loadConfig uses the legacy keys when the new ones are not set", () => {
  const config = loadConfig({
    SUPABASE_URL: "http://127.0.0.1:54321",
    SUPABASE_ANON_KEY: "legacy.anon.jwt",
    SUPABASE_SERVICE_ROLE_KEY: "legacy.service.jwt",
  });
  assertEquals(
    [config.anonKey, config.serviceKey, config.publishableKeys, config.secretKeys],
    ["legacy.anon.jwt", "legacy.service.jwt", ["legacy.anon.jwt"], ["legacy.service.jwt"]],
  );
});

Deno.test("loadConfig reads every limit from its variable", () => {
  const config = loadConfig({
    ...MINIMAL,
    TELEMETRY_MAX_BODY_BYTES: "1024",
    TELEMETRY_MAX_LINES: "10",
    TELEMETRY_BODY_TIMEOUT_MS: "250",
    TELEMETRY_RATE_LIMIT_PER_MINUTE: "5",
    TELEMETRY_FRAMES_PER_SECOND: "14",
    TELEMETRY_BYTES_PER_SECOND: "15",
    UNKNOWN_KEY_LOOKUPS_PER_MINUTE: "16",
    OPERATOR_QUERIES_PER_MINUTE: "17",
    OPERATOR_MAX_LIVE_STREAMS: "18",
    QUERY_CACHE_BYTES_PER_USER: "19",
    QUERY_CACHE_BYTES_TOTAL: "20",
    TELEMETRY_MAX_RETRIES: "1",
    DEVICE_AUTH_CACHE_SECONDS: "7",
    QUERY_CACHE_SECONDS: "8",
    HEALTH_MAX_PENDING_AGE_SECONDS: "9",
    TELEMETRY_STREAM_MAX_SECONDS: "10",
    TELEMETRY_STREAM_CHUNK_FRAMES: "11",
    TELEMETRY_STREAM_CHUNK_MS: "12",
    TELEMETRY_STREAM_MAX_LINES: "13",
    TELEMETRY_STREAM_CPU_BUDGET_MS: "14",
    TELEMETRY_STREAM_MAX_BYTES: "18",
    TELEMETRY_INFLIGHT_MAX_BYTES: "15",
    TELEMETRY_INFLIGHT_MAX_FRAMES: "16",
    TELEMETRY_OVERLOAD_RETRY_AFTER_SECONDS: "17",
  });
  assertEquals(config.limits, {
    maxBodyBytes: 1024,
    maxLines: 10,
    bodyTimeoutMs: 250,
    ratePerMinute: 5,
    framesPerSecond: 14,
    bytesPerSecond: 15,
    unknownKeyLookupsPerMinute: 16,
    operatorQueriesPerMinute: 17,
    operatorMaxLiveStreams: 18,
    queryCacheBytesPerUser: 19,
    queryCacheBytesTotal: 20,
    maxRetries: 1,
    deviceAuthCacheSeconds: 7,
    queryCacheSeconds: 8,
    healthMaxPendingAgeSeconds: 9,
    stream: {
      maxSeconds: 10,
      chunkFrames: 11,
      chunkMs: 12,
      maxLines: 13,
      cpuBudgetMs: 14,
      maxBytes: 18,
    },
    inFlight: { maxBytes: 15, maxFrames: 16, retryAfterSeconds: 17 },
  });
});

Deno.test("loadConfig takes the project id from a hosted URL and 'local' otherwise", async (t) => {
  const cases: [string, string][] = [
    ["https://abcd.supabase.co", "abcd"],
    ["https://abcdefghijklmnop.supabase.co/", "abcdefghijklmnop"],
    ["http://127.0.0.1:54321", "local"],
    ["http://localhost:54321", "local"],
    ["https://supabase.co", "local"],
    ["https://abcd.notsupabase.co", "local"],
    ["https://api.example.com", "local"],
  ];
  for (const [url, id] of cases) {
    await t.step(`${url} -> ${id}`, () => {
      assertEquals(loadConfig({ ...MINIMAL, SUPABASE_URL: url }).supabaseProjectId, id);
    });
  }
});

Deno.test("loadConfig reads a JWKS given as an object with keys or as a bare array", async (t) => {
  await t.step('{"keys": [...]}', () => {
    const config = loadConfig({ ...MINIMAL, SUPABASE_JWKS: JSON.stringify({ keys: [EC_KEY] }) });
    assertEquals(config.jwks, [EC_KEY]);
  });
  await t.step("[...]", () => {
    const config = loadConfig({ ...MINIMAL, SUPABASE_JWKS: JSON.stringify([EC_KEY]) });
    assertEquals(config.jwks, [EC_KEY]);
  });
});

Deno.test("loadConfig sets redis only when both Upstash variables are set", () => {
  const config = loadConfig({
    ...MINIMAL,
    UPSTASH_REDIS_REST_URL: "https://redis.example.com",
    UPSTASH_REDIS_REST_TOKEN: "token",
  });
  assertEquals(config.redis, { url: "https://redis.example.com", token: "token" });
});

Deno.test("loadConfig throws naming every missing key in one ConfigError", () => {
  assertEquals(
    configError({
      SUPABASE_URL: "http://127.0.0.1:54321",
      UPSTASH_REDIS_REST_URL: "https://redis.example.com",
    }),
    "Invalid environment: SUPABASE_PUBLISHABLE_KEYS or SUPABASE_ANON_KEY: one is required; " +
      "SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY: one is required; " +
      "UPSTASH_REDIS_REST_TOKEN: required when UPSTASH_REDIS_REST_URL is set",
  );
});

Deno.test("loadConfig throws naming UPSTASH_REDIS_REST_TOKEN when only the URL is set", () => {
  assertEquals(
    configError({ ...MINIMAL, UPSTASH_REDIS_REST_URL: "https://redis.example.com" }),
    "Invalid environment: UPSTASH_REDIS_REST_TOKEN: required when UPSTASH_REDIS_REST_URL is set",
  );
});

Deno.test("loadConfig throws naming the secret keys when the default is not among them", () => {
  assertEquals(
    configError({ ...MINIMAL, SUPABASE_SECRET_KEYS: '{"ops":"sb_secret_test"}' }),
    'Invalid environment: SUPABASE_SECRET_KEYS: needs a "default" key',
  );
});

Deno.test("loadConfig throws naming every malformed variable in one ConfigError", () => {
  assertEquals(
    configError({
      ...MINIMAL,
      SUPABASE_URL: "not a url",
      SUPABASE_SECRET_KEYS: "{not json",
      SUPABASE_JWT_SECRET: "short",
      TELEMETRY_MAX_LINES: "0",
    }),
    "Invalid environment: SUPABASE_URL: Invalid URL; " +
      'SUPABASE_SECRET_KEYS: must be a JSON object of names to keys, e.g. {"default":"…"}; ' +
      "SUPABASE_JWT_SECRET: Too small: expected string to have >=32 characters; " +
      "TELEMETRY_MAX_LINES: Too small: expected number to be >0",
  );
});

Deno.test("loadConfig throws naming the variable when a key set is not an object of strings", async (t) => {
  const cases: [string, string, string][] = [
    ["SUPABASE_PUBLISHABLE_KEYS", "[]", "must be a JSON object of names to keys"],
    ["SUPABASE_SECRET_KEYS", '{"default":1}', "must be a JSON object of names to keys"],
    ["SUPABASE_SECRET_KEYS", '"sb_secret_test"', "must be a JSON object of names to keys"],
    ["SUPABASE_JWKS", "{not json", "must be a JWKS"],
    ["SUPABASE_JWKS", '{"keys":[{"kid":"no-kty"}]}', "must be a JWKS"],
    ["SUPABASE_JWKS", '{"key":[]}', "must be a JWKS"],
  ];
  for (const [name, value, message] of cases) {
    await t.step(`${name}=${value}`, () => {
      const text = configError({ ...MINIMAL, [name]: value });
      assertEquals(text.startsWith(`Invalid environment: ${name}: ${message}`), true, text);
    });
  }
});

Deno.test("loadConfig throws naming SUPABASE_URL and both key sets when all are missing", () => {
  assertEquals(
    configError({}),
    "Invalid environment: SUPABASE_URL: Invalid input: expected string, received undefined; " +
      "SUPABASE_PUBLISHABLE_KEYS or SUPABASE_ANON_KEY: one is required; " +
      "SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY: one is required",
  );
});
