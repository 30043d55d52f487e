/**
 * The handler's answers that never reach the database or Redis: routing, method, credentials
 * and parameter validation. Everything that does is tested end to end in
 * tests/integration/telemetry_query_test.ts.
 */
import { assertEquals } from "@std/assert";
import type { Deps } from "../../../shared/platform/deps.ts";
import { createNoDbDeps } from "../../../tests/_no_db_deps.ts";
import { signHs256 } from "../../../shared/auth/jwt.ts";
import { createTelemetryQueryHandler } from "./handler.ts";

const SECRET = "a-test-secret-that-is-at-least-32-characters";
const NOW = new Date("2026-11-26T12:00:00.000Z");
const USER = "11111111-1111-4111-8111-111111111111";

function fakeDeps(): Deps {
  return createNoDbDeps({ SUPABASE_JWT_SECRET: SECRET }, NOW).deps;
}

async function userToken(): Promise<string> {
  // identifyCaller checks expiry against the real clock.
  const iat = Math.floor(Date.now() / 1000);
  return await signHs256(
    { sub: USER, role: "authenticated", aud: "authenticated", iat, exp: iat + 3600 },
    SECRET,
  );
}

async function call(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; type: string | null; body: Record<string, unknown> }> {
  const handler = createTelemetryQueryHandler(fakeDeps());
  const response = await handler(new Request(`http://functions.test${path}`, init));
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    body: response.status === 204 ? {} : await response.json(),
  };
}

function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { request_id: _id, ...rest } = body;
  return rest;
}

Deno.test("telemetry-query answers 400 naming the parameter when limit is out of range", async () => {
  const { status, type, body } = await call("/telemetry-query?limit=1001", {
    headers: { authorization: `Bearer ${await userToken()}` },
  });
  assertEquals(status, 400);
  assertEquals(type, "application/json");
  assertEquals(withoutRequestId(body), {
    success: false,
    error: {
      code: "invalid_parameter",
      message: 'Invalid query parameter "limit": must be an integer from 1 to 1000, got "1001"',
      details: [{ parameter: "limit", message: 'must be an integer from 1 to 1000, got "1001"' }],
    },
    timestamp: NOW.toISOString(),
  });
});

Deno.test("telemetry-query answers 400 naming every bad and unknown parameter", async () => {
  const { status, body } = await call(
    "/telemetry-query?order_by=nope&desc=maybe&device_id=x&from=never&fields=bogus&extra=1",
    { headers: { authorization: `Bearer ${await userToken()}` } },
  );
  assertEquals(status, 400);
  const error = body.error as { details: { parameter: string }[] };
  assertEquals(error.details.map((problem) => problem.parameter), [
    "order_by",
    "desc",
    "device_id",
    "from",
    "fields",
    "extra",
  ]);
});

Deno.test("telemetry-query answers 401 when no credential is given", async () => {
  const { status, body } = await call("/telemetry-query");
  assertEquals(status, 401);
  assertEquals((body.error as { code: string }).code, "missing_credentials");
});

Deno.test("telemetry-query answers 401 for a token signed with another secret", async () => {
  const token = await signHs256(
    { sub: USER, role: "authenticated", exp: Math.floor(Date.now() / 1000) + 60 },
    "another-secret-that-is-at-least-32-characters",
  );
  const { status, body } = await call("/telemetry-query", {
    headers: { authorization: `Bearer ${token}` },
  });
  assertEquals(status, 401);
  assertEquals((body.error as { code: string }).code, "invalid_token");
});

Deno.test("telemetry-query answers 403 for the publishable key", async () => {
  const { status, body } = await call("/telemetry-query", {
    headers: { apikey: "sb_publishable_test" },
  });
  assertEquals(status, 403);
  assertEquals((body.error as { code: string }).code, "forbidden");
});

Deno.test("telemetry-query checks credentials before parameters", async () => {
  const { status } = await call("/telemetry-query?limit=0");
  assertEquals(status, 401);
});

Deno.test("telemetry-query answers 405 with Allow for a POST", async () => {
  const handler = createTelemetryQueryHandler(fakeDeps());
  const response = await handler(
    new Request("http://functions.test/telemetry-query", { method: "POST" }),
  );
  assertEquals(response.status, 405);
  assertEquals(response.headers.get("allow"), "GET");
  await response.body?.cancel();
});

Deno.test("telemetry-query answers 404 for a path below it", async () => {
  const { status, body } = await call("/telemetry-query/frames");
  assertEquals(status, 404);
  assertEquals((body.error as { code: string }).code, "not_found");
});

Deno.test("telemetry-query answers a CORS preflight with 204", async () => {
  const { status } = await call("/telemetry-query", { method: "OPTIONS" });
  assertEquals(status, 204);
});
