import { assertEquals, assertNotEquals } from "@std/assert";
import {
  ALL_GENERATION_KEY,
  generationKeys,
  ownerGenerationKey,
  queryCacheBudgets,
  queryCacheKey,
  scopeGenerationKey,
  scopeName,
} from "./query_cache.ts";

const ALICE = "11111111-1111-4111-8111-111111111111";
const BOB = "22222222-2222-4222-8222-222222222222";

Deno.test("generationKeys() names the owner's counter and the global one, versioned", () => {
  assertEquals(generationKeys(ALICE), [
    `telemetry:v1:gen:owner:${ALICE}`,
    "telemetry:v1:gen:all",
  ]);
  assertEquals(ALL_GENERATION_KEY, "telemetry:v1:gen:all");
});

Deno.test("scopeGenerationKey() reads the owner's counter for a user and the global one for service", () => {
  assertEquals(scopeGenerationKey({ kind: "user", userId: ALICE }), ownerGenerationKey(ALICE));
  assertEquals(scopeGenerationKey({ kind: "service" }), ALL_GENERATION_KEY);
  // What ingest bumps is exactly what the readers read.
  assertEquals(generationKeys(ALICE), [
    scopeGenerationKey({ kind: "user", userId: ALICE }),
    scopeGenerationKey({ kind: "service" }),
  ]);
});

Deno.test("queryCacheKey() carries scope, generation and params hash", () => {
  assertEquals(
    queryCacheKey({ kind: "user", userId: ALICE }, "7", "abc"),
    `telemetry:v1:query:user:${ALICE}:7:abc`,
  );
  assertEquals(queryCacheKey({ kind: "service" }, "0", "abc"), "telemetry:v1:query:service:0:abc");
});

Deno.test("queryCacheKey() differs between tenants, service role and generations", () => {
  const keys = [
    queryCacheKey({ kind: "user", userId: ALICE }, "1", "h"),
    queryCacheKey({ kind: "user", userId: BOB }, "1", "h"),
    queryCacheKey({ kind: "service" }, "1", "h"),
    queryCacheKey({ kind: "user", userId: ALICE }, "2", "h"),
    queryCacheKey({ kind: "user", userId: ALICE }, "1", "i"),
  ];
  assertEquals(new Set(keys).size, keys.length);
  assertNotEquals(scopeName({ kind: "user", userId: ALICE }), scopeName({ kind: "service" }));
});

Deno.test("queryCacheBudgets charges the scope's and everyone's budget of the TTL's window", () => {
  const now = new Date(Date.UTC(2026, 10, 26, 12, 4, 59));
  const window = String(Math.floor(now.getTime() / 300_000));
  assertEquals(
    queryCacheBudgets({ kind: "user", userId: "u1" }, now, {
      ttlSeconds: 300,
      perScopeBytes: 10,
      totalBytes: 20,
    }),
    [
      { key: `telemetry:v1:query-budget:user:u1:${window}`, limit: 10, ttlSeconds: 600 },
      { key: `telemetry:v1:query-budget:all:${window}`, limit: 20, ttlSeconds: 600 },
    ],
  );
});
