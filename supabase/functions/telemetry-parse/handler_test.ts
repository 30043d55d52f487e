/**
 * The handler's answers that never reach the database or Redis: preflight, method and a missing
 * device key; then, with the device already in the in-memory cache (so authentication is a cache
 * hit), rate limit, content type, parameters, body limits, parsing and `store=false`. Storing is
 * tested end to end in tests/integration/.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { type Device, deviceCacheKey, sha256Hex } from "../../../shared/auth/device_auth.ts";
import { CORS_HEADERS } from "../../../shared/platform/http.ts";
import type { LogFields } from "../../../shared/platform/log.ts";
import { createNoDbDeps } from "../../../tests/_no_db_deps.ts";
import { parseTelemetry } from "../../../shared/ingest/parser.ts";
import { createParseHandler } from "./handler.ts";

const NOW = new Date("2026-11-26T12:00:00.000Z");
const DEVICE_KEY = `dtk_${"0123456789abcdef".repeat(3)}`;
const DEVICE: Device = {
  id: "22222222-2222-4222-8222-222222222222",
  ownerId: "11111111-1111-4111-8111-111111111111",
  name: "test drone",
  // SHA-256 of DEVICE_KEY, as the device cache stores it.
  keyHash: await sha256Hex(DEVICE_KEY),
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function fakeDeps(
  env: Record<string, string> = {},
  options: { knownDevice?: boolean } = {},
) {
  const { deps, logLines, cache } = createNoDbDeps(env, NOW);
  if (options.knownDevice) {
    await cache.set(deviceCacheKey(await sha256Hex(DEVICE_KEY)), JSON.stringify(DEVICE), 60);
  }
  return { deps, logger: { lines: logLines } };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  requestLog: LogFields | undefined;
}

async function call(
  init: RequestInit & { path?: string } = {},
  env: Record<string, string> = {},
  knownDevice = false,
): Promise<Answer> {
  const { deps, logger } = await fakeDeps(env, { knownDevice });
  const handler = createParseHandler(deps);
  const response = await handler(
    new Request(`http://functions.test/telemetry-parse${init.path ?? ""}`, init),
  );
  const text = await response.text();
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: text === "" ? null : JSON.parse(text),
    requestLog: logger.lines.find((line) => line.message === "request"),
  };
}

/** A POST from the known device. */
function post(body: string, headers: Record<string, string> = {}, path = ""): RequestInit {
  return {
    path,
    method: "POST",
    headers: { authorization: `Bearer ${DEVICE_KEY}`, "content-type": "text/plain", ...headers },
    body,
  } as RequestInit;
}

function errorAnswer(answer: Answer, error: Record<string, unknown>) {
  return {
    status: answer.status,
    type: answer.headers["content-type"],
    body: {
      success: false,
      error,
      timestamp: "2026-11-26T12:00:00.000Z",
      request_id: answer.headers["x-request-id"],
    },
  };
}

function shape(answer: Answer) {
  return { status: answer.status, type: answer.headers["content-type"], body: answer.body };
}

Deno.test("telemetry-parse answers preflight 204 with CORS headers", async () => {
  const answer = await call({
    method: "OPTIONS",
    headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
  });
  assertMatch(answer.headers["x-request-id"] ?? "", UUID);
  assertEquals({ status: answer.status, headers: answer.headers, body: answer.body }, {
    status: 204,
    headers: { ...CORS_HEADERS, "x-request-id": answer.headers["x-request-id"] ?? "" },
    body: null,
  });
});

Deno.test("telemetry-parse answers 405 with Allow: POST, GET when the method is another", async (t) => {
  for (const method of ["PUT", "DELETE", "PATCH"]) {
    await t.step(method, async () => {
      const answer = await call({ method, headers: { authorization: `Bearer ${DEVICE_KEY}` } });
      assertEquals(answer.headers["allow"], "POST, GET");
      assertEquals(
        shape(answer),
        errorAnswer(answer, {
          code: "method_not_allowed",
          message: `Method ${method} is not allowed; use POST or GET`,
        }),
      );
    });
  }
});

Deno.test("telemetry-parse answers 401 missing_device_key when no key is sent", async (t) => {
  const cases: [string, Record<string, string>][] = [
    ["no header", {}],
    ["an empty x-device-key", { "x-device-key": "" }],
    ["a Basic Authorization", { authorization: "Basic dXNlcjpwYXNz" }],
  ];
  for (const [name, headers] of cases) {
    await t.step(name, async () => {
      const answer = await call({
        method: "POST",
        headers: { "content-type": "text/plain", ...headers },
        body: "roll:1",
      });
      assertEquals(
        shape(answer),
        errorAnswer(answer, {
          code: "missing_device_key",
          message: "Send the device key as Authorization: Bearer <key> or x-device-key",
        }),
      );
      assertEquals(answer.requestLog?.status, 401);
    });
  }
});

Deno.test("telemetry-parse answers 415 for a content type devices may not send", async () => {
  const answer = await call(
    post("<roll>1</roll>", { "content-type": "application/xml" }),
    {},
    true,
  );
  assertEquals(
    shape(answer),
    errorAnswer(answer, {
      code: "unsupported_media_type",
      message: 'Content-Type "application/xml" is not accepted; send one of text/plain, ' +
        "application/json, application/x-ndjson, application/ndjson, application/octet-stream",
    }),
  );
  assertEquals(answer.requestLog?.device_id, DEVICE.id);
});

Deno.test("telemetry-parse answers 429 with Retry-After over the device's rate limit", async () => {
  const { deps } = await fakeDeps({ TELEMETRY_RATE_LIMIT_PER_MINUTE: "1" }, { knownDevice: true });
  const handler = createParseHandler(deps);
  const request = () =>
    new Request(
      "http://functions.test/telemetry-parse?store=false",
      post("roll:1,ts:2026-11-26T11:59:00Z"),
    );
  assertEquals((await handler(request())).status, 200);
  const response = await handler(request());
  assertEquals(response.status, 429);
  assertEquals(response.headers.get("retry-after"), "60");
  assertEquals(await response.json(), {
    success: false,
    error: {
      code: "rate_limited",
      message: "Device sent more than 1 requests this minute; retry in 60 s",
      details: { limit: 1, used: 1, requested: 1, window_s: 60 },
    },
    timestamp: "2026-11-26T12:00:00.000Z",
    request_id: response.headers.get("x-request-id"),
  });
});

Deno.test("telemetry-parse answers 400 for a store parameter that is not a boolean", async () => {
  const answer = await call(post("roll:1", {}, "?store=maybe"), {}, true);
  assertEquals(
    shape(answer),
    errorAnswer(answer, {
      code: "invalid_parameter",
      message: 'Parameter "store" must be true or false, got "maybe"',
      details: { parameter: "store" },
    }),
  );
});

Deno.test("telemetry-parse answers 400 for an Idempotency-Key with spaces or too long", async (t) => {
  for (const key of ["has space", "k".repeat(256), "caf\u00e9"]) {
    await t.step(`${key.slice(0, 12)} (${key.length})`, async () => {
      const answer = await call(post("roll:1", { "idempotency-key": key }), {}, true);
      assertEquals(
        shape(answer),
        errorAnswer(answer, {
          code: "invalid_header",
          message:
            "Header Idempotency-Key must be 1 to 255 printable ASCII characters without spaces",
          details: { header: "Idempotency-Key" },
        }),
      );
    });
  }
});

Deno.test("telemetry-parse answers 413 when the body is over TELEMETRY_MAX_BODY_BYTES", async () => {
  const answer = await call(
    post("roll:1,pitch:2,alt:3\n".repeat(4)),
    { TELEMETRY_MAX_BODY_BYTES: "32" },
    true,
  );
  assertEquals(
    shape(answer),
    errorAnswer(answer, {
      code: "payload_too_large",
      message: "Body is larger than 32 bytes; split it into several requests",
      details: { max_bytes: 32 },
    }),
  );
});

Deno.test("telemetry-parse answers 413 when the body has more than TELEMETRY_MAX_LINES", async () => {
  const answer = await call(post("roll:1\n".repeat(3)), { TELEMETRY_MAX_LINES: "2" }, true);
  assertEquals(
    shape(answer),
    errorAnswer(answer, {
      code: "too_many_lines",
      message: "Body has more than 2 lines; split it into several requests",
      details: { max_lines: 2 },
    }),
  );
});

Deno.test("telemetry-parse answers 400 no_frames when the body is blank", async () => {
  const answer = await call(post("\n \n"), {}, true);
  assertEquals(
    shape(answer),
    errorAnswer(answer, { code: "no_frames", message: "Body holds no telemetry frames" }),
  );
});

// With store=true the rejects are recorded in the database before the 422; store=false is not.
Deno.test("telemetry-parse answers 422 naming the reason when the only frame is invalid", async () => {
  const text = "roll:999";
  const parsed = parseTelemetry(text, { receivedAt: NOW });
  const answer = await call(post(text, {}, "?store=false"), {}, true);
  assertEquals(
    shape(answer),
    errorAnswer(answer, {
      code: "invalid_telemetry",
      message: `The frame is invalid: ${parsed.errors[0]?.reason}`,
      details: { rejected: 1, errors: parsed.errors },
    }),
  );
});

Deno.test("telemetry-parse answers 422 counting the lines when every line is invalid", async () => {
  const text = "roll:999\npitch:999\n";
  const parsed = parseTelemetry(text, { receivedAt: NOW });
  const answer = await call(post(text, {}, "?store=false"), {}, true);
  assertEquals(
    shape(answer),
    errorAnswer(answer, {
      code: "invalid_telemetry",
      message: "All 2 lines are invalid",
      details: { rejected: 2, errors: parsed.errors },
    }),
  );
});

Deno.test("telemetry-parse answers the reference shape with store=false for one frame", async () => {
  const text = "roll:15.2,pitch:8.1,alt:150,ts:2026-11-26T11:59:00Z";
  const row = parseTelemetry(text, { receivedAt: NOW }).frames[0]?.row;
  const answer = await call(post(text, {}, "?store=false"), {}, true);
  assertEquals(shape(answer), {
    status: 200,
    type: "application/json",
    body: {
      success: true,
      parsed_data: row,
      stored: false,
      batch_status: null,
      timestamp: "2026-11-26T12:00:00.000Z",
    },
  });
  assertEquals(answer.requestLog?.frames, 1);
});

Deno.test("telemetry-parse answers counts and errors with store=false for several lines", async () => {
  const text = [
    "roll:1,alt:10,ts:2026-11-26T10:00:00Z",
    "roll:999",
    "roll:2,alt:11,ts:2026-11-26T10:00:01Z",
  ].join("\n");
  const parsed = parseTelemetry(text, { receivedAt: NOW });
  const answer = await call(post(text, {}, "?store=0"), {}, true);
  assertEquals(shape(answer), {
    status: 200,
    type: "application/json",
    body: {
      success: true,
      parsed_data: null,
      stored: false,
      accepted: 2,
      rejected: 1,
      errors: parsed.errors,
      batch_status: null,
      timestamp: "2026-11-26T12:00:00.000Z",
    },
  });
  assertEquals(
    [answer.requestLog?.frames, answer.requestLog?.rejected, answer.requestLog?.device_id],
    [2, 1, DEVICE.id],
  );
});

Deno.test("telemetry-parse answers 400 naming the parameter for a bad stream or max_seconds", async (t) => {
  const cases: [string, string, string][] = [
    ["?stream=yes", "stream", 'Parameter "stream" must be true or false, got "yes"'],
    [
      "?stream=true&max_seconds=0",
      "max_seconds",
      'Parameter "max_seconds" must be a whole number from 1 to 120, got "0"',
    ],
    [
      "?stream=true&max_seconds=121",
      "max_seconds",
      'Parameter "max_seconds" must be a whole number from 1 to 120, got "121"',
    ],
    [
      "?stream=true&max_seconds=1.5",
      "max_seconds",
      'Parameter "max_seconds" must be a whole number from 1 to 120, got "1.5"',
    ],
    ["?stream=true&store=false", "store", 'Parameter "store=false" cannot stream'],
  ];
  for (const [query, parameter, message] of cases) {
    await t.step(query, async () => {
      const answer = await call(post("roll:1", {}, query), {}, true);
      assertEquals(
        shape(answer),
        errorAnswer(answer, { code: "invalid_parameter", message, details: { parameter } }),
      );
    });
  }
});

Deno.test("telemetry-parse answers 400 for an Idempotency-Key on a streaming request", async () => {
  const answer = await call(post("roll:1", { "idempotency-key": "k1" }, "?stream=true"), {}, true);
  assertEquals(
    shape(answer),
    errorAnswer(answer, {
      code: "invalid_header",
      message: "Header Idempotency-Key does not apply to a streaming request: each stored chunk " +
        "has its own key, and re-sent frames are dropped by (device_id, recorded_at)",
      details: { header: "Idempotency-Key" },
    }),
  );
});

Deno.test("telemetry-parse answers 400 for a streaming body that is a JSON document", async () => {
  const answer = await call(post('[{"roll":1}]', {}, "?stream=true"), {}, true);
  assertEquals(
    shape(answer),
    errorAnswer(answer, {
      code: "invalid_stream_body",
      message:
        "A streaming body must be key:value or NDJSON lines, one frame per line, not a JSON document",
    }),
  );
});

Deno.test("telemetry-parse refuses a body of undeclared length before reading it when the bodies in flight hold the budget", async () => {
  // Each body sent without Content-Length holds 1 MiB from its start: two fill a 2 MiB budget.
  const { deps } = await fakeDeps({ TELEMETRY_INFLIGHT_MAX_BYTES: String(2 * 1024 * 1024) }, {
    knownDevice: true,
  });
  const handler = createParseHandler(deps);
  const pulls: number[] = [0, 0, 0];
  const held: ReadableStreamDefaultController<Uint8Array>[] = [];
  const undeclared = (index: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        held.push(controller);
      },
      pull() {
        pulls[index] = (pulls[index] ?? 0) + 1;
        // Never gives a byte: the body stays open until the test ends it.
        return new Promise(() => {});
      },
    }, { highWaterMark: 0 });
  const request = (index: number) =>
    handler(
      new Request("http://functions.test/telemetry-parse?store=false", {
        method: "POST",
        headers: { authorization: `Bearer ${DEVICE_KEY}`, "content-type": "text/plain" },
        body: undeclared(index),
      }),
    );
  const open = [request(0), request(1)];
  // Let both start reading before the third arrives.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const refused = await request(2);
  const body = await refused.json();
  assertEquals(
    [refused.status, refused.headers.get("retry-after"), body.error.code, pulls],
    [503, "1", "over_capacity", [1, 1, 0]],
  );
  for (const controller of held.slice(0, 2)) controller.error(new Error("test over"));
  await Promise.allSettled(open.map(async (answer) => (await answer).body?.cancel()));
});
