import { assertEquals, assertMatch } from "@std/assert";
import {
  CORS_HEADERS,
  errorBody,
  HttpError,
  jsonResponse,
  requireMethod,
  subPath,
  withBoundary,
} from "./http.ts";
import { createMemoryLogger, type LogFields } from "./log.ts";

const NOW = new Date("2026-11-26T12:00:00.000Z");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function boundary(handler: Parameters<typeof withBoundary>[2]) {
  const logger = createMemoryLogger();
  return { logger, handle: withBoundary("test-fn", logger, handler, () => NOW) };
}

/** A log line without its clock-dependent fields, which are checked by type. */
function stable(line: LogFields | undefined): LogFields {
  const { time, duration_ms: duration, ...rest } = line ?? {};
  assertMatch(String(time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  if (duration !== undefined) assertEquals(typeof duration === "number" && duration >= 0, true);
  return rest;
}

/** An HttpError's status, code, message, details and headers, or the error itself. */
function describe(error: unknown) {
  if (!(error instanceof HttpError)) throw error;
  return {
    status: error.status,
    code: error.code,
    message: error.message,
    details: error.details,
    headers: error.headers,
  };
}

async function thrown(action: () => unknown): Promise<ReturnType<typeof describe>> {
  try {
    await action();
  } catch (error) {
    return describe(error);
  }
  throw new Error("nothing was thrown");
}

Deno.test("jsonResponse answers JSON with CORS headers and extra headers", async () => {
  const response = jsonResponse({ ok: 1 }, 201, { "retry-after": "3" });
  assertEquals(response.status, 201);
  assertEquals(Object.fromEntries(response.headers), {
    "content-type": "application/json",
    ...CORS_HEADERS,
    "retry-after": "3",
  });
  assertEquals(await response.json(), { ok: 1 });
});

Deno.test("errorBody leaves details out when they are undefined", () => {
  assertEquals(errorBody("bad", "Bad thing", undefined, "req-1", NOW), {
    success: false,
    error: { code: "bad", message: "Bad thing" },
    timestamp: "2026-11-26T12:00:00.000Z",
    request_id: "req-1",
  });
  assertEquals(errorBody("bad", "Bad thing", null, "req-1", NOW).error, {
    code: "bad",
    message: "Bad thing",
    details: null,
  });
});

Deno.test("withBoundary passes the handler's response through with x-request-id", async () => {
  const { handle, logger } = boundary((_request, context) => {
    context.log.device_id = "device-1";
    return Promise.resolve(jsonResponse({ hello: "world" }));
  });
  const response = await handle(new Request("http://functions.test/test-fn"));
  const requestId = response.headers.get("x-request-id") ?? "";
  assertMatch(requestId, UUID);
  assertEquals(response.status, 200);
  assertEquals(await response.json(), { hello: "world" });
  assertEquals(logger.lines.map(stable), [{
    level: "info",
    message: "request",
    function: "test-fn",
    method: "GET",
    status: 200,
    request_id: requestId,
    device_id: "device-1",
  }]);
});

Deno.test("withBoundary gives each request its own request id", async () => {
  const { handle } = boundary(() => Promise.resolve(jsonResponse({})));
  const first = await handle(new Request("http://functions.test/test-fn"));
  const second = await handle(new Request("http://functions.test/test-fn"));
  assertEquals(first.headers.get("x-request-id") === second.headers.get("x-request-id"), false);
});

Deno.test("withBoundary answers an HttpError with the error body, status and headers", async () => {
  const { handle, logger } = boundary(() => {
    throw new HttpError(429, "rate_limited", "Slow down", { limit: 5 }, { "retry-after": "42" });
  });
  const response = await handle(new Request("http://functions.test/test-fn", { method: "POST" }));
  const requestId = response.headers.get("x-request-id");
  assertEquals(response.status, 429);
  assertEquals(response.headers.get("content-type"), "application/json");
  assertEquals(response.headers.get("retry-after"), "42");
  assertEquals(response.headers.get("access-control-allow-origin"), "*");
  assertEquals(await response.json(), {
    success: false,
    error: { code: "rate_limited", message: "Slow down", details: { limit: 5 } },
    timestamp: "2026-11-26T12:00:00.000Z",
    request_id: requestId,
  });
  assertEquals(logger.lines.map(stable), [{
    level: "info",
    message: "request",
    function: "test-fn",
    method: "POST",
    status: 429,
    request_id: requestId,
  }]);
});

Deno.test("withBoundary answers a bare 500 and logs the error when the handler fails", async () => {
  const { handle, logger } = boundary(() => {
    throw new Error("connection string postgres://user:hunter2@db is wrong");
  });
  const response = await handle(new Request("http://functions.test/test-fn"));
  const requestId = response.headers.get("x-request-id");
  assertEquals(response.status, 500);
  assertEquals(response.headers.get("content-type"), "application/json");
  const text = await response.text();
  assertEquals(text.includes("hunter2"), false);
  assertEquals(JSON.parse(text), {
    success: false,
    error: { code: "internal_error", message: "Internal server error" },
    timestamp: "2026-11-26T12:00:00.000Z",
    request_id: requestId,
  });
  const [errorLine, requestLine] = logger.lines.map(stable);
  const { stack, ...errorRest } = errorLine ?? {};
  assertEquals(typeof stack, "string");
  assertEquals(errorRest, {
    level: "error",
    message: "unhandled error",
    request_id: requestId,
    error: "connection string postgres://user:hunter2@db is wrong",
  });
  assertEquals(requestLine, {
    level: "info",
    message: "request",
    function: "test-fn",
    method: "GET",
    status: 500,
    request_id: requestId,
  });
});

Deno.test("withBoundary answers a bare 500 when the handler throws a non-Error", async () => {
  const { handle, logger } = boundary(() => Promise.reject("just a string"));
  const response = await handle(new Request("http://functions.test/test-fn"));
  assertEquals(response.status, 500);
  assertEquals((await response.json()).error, {
    code: "internal_error",
    message: "Internal server error",
  });
  assertEquals(logger.lines[0]?.error, "just a string");
});

Deno.test("withBoundary answers preflight 204 with CORS headers without calling the handler", async () => {
  let called = false;
  const { handle, logger } = boundary(() => {
    called = true;
    return Promise.resolve(jsonResponse({}));
  });
  const response = await handle(
    new Request("http://functions.test/test-fn", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
    }),
  );
  const requestId = response.headers.get("x-request-id") ?? "";
  assertEquals(called, false);
  assertEquals(response.status, 204);
  assertEquals(await response.text(), "");
  assertEquals(Object.fromEntries(response.headers), {
    ...CORS_HEADERS,
    "x-request-id": requestId,
  });
  assertMatch(requestId, UUID);
  assertEquals(logger.lines.map(stable), [{
    level: "info",
    message: "request",
    function: "test-fn",
    method: "OPTIONS",
    status: 204,
    request_id: requestId,
  }]);
});

Deno.test("requireMethod returns when the method is allowed", () => {
  const request = new Request("http://functions.test/x", { method: "DELETE" });
  assertEquals(requireMethod(request, "GET", "DELETE"), undefined);
});

Deno.test("requireMethod throws 405 with Allow when the method is not allowed", async () => {
  const request = new Request("http://functions.test/x", { method: "PUT" });
  assertEquals(await thrown(() => requireMethod(request, "GET", "POST")), {
    status: 405,
    code: "method_not_allowed",
    message: "Method PUT is not allowed; use GET or POST",
    details: undefined,
    headers: { allow: "GET, POST" },
  });
});

Deno.test("withBoundary answers 405 with Allow when requireMethod refuses", async () => {
  const { handle } = boundary((request) => {
    requireMethod(request, "POST");
    return Promise.resolve(jsonResponse({}));
  });
  const response = await handle(new Request("http://functions.test/test-fn", { method: "GET" }));
  assertEquals(response.status, 405);
  assertEquals(response.headers.get("allow"), "POST");
  assertEquals(await response.json(), {
    success: false,
    error: { code: "method_not_allowed", message: "Method GET is not allowed; use POST" },
    timestamp: "2026-11-26T12:00:00.000Z",
    request_id: response.headers.get("x-request-id"),
  });
});

Deno.test("subPath returns the path after the function's name", async (t) => {
  const cases: [string, string][] = [
    ["http://functions.test/telemetry-query", "/"],
    ["http://functions.test/telemetry-query/", "/"],
    ["http://functions.test/telemetry-query/abc", "/abc"],
    ["http://functions.test/telemetry-query/abc/def?x=1", "/abc/def"],
    ["http://functions.test/other/abc", "/other/abc"],
    ["http://functions.test/", "/"],
  ];
  for (const [url, expected] of cases) {
    await t.step(`${url} -> ${expected}`, () => {
      assertEquals(subPath(new Request(url), "telemetry-query"), expected);
    });
  }
});
