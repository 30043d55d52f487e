import { assertEquals } from "@std/assert";
import { createAdmission } from "../platform/admission.ts";
import { HttpError } from "../platform/http.ts";
import { type ParseResult, parseTelemetry } from "./parser.ts";
import {
  type BodyLimits,
  checkJsonBodyShape,
  checkTelemetryContentType,
  readTelemetryBody,
  TELEMETRY_CONTENT_TYPES,
} from "./telemetry_body.ts";

const RECEIVED = new Date("2026-11-26T12:00:00.000Z");
const LIMITS: BodyLimits = { maxBytes: 1024 * 1024, maxLines: 1_000 };

const KV_BODY = [
  "roll:15.2,pitch:8.1,alt:150",
  "roll:1,alt:10,ts:2026-11-26T10:00:00Z",
  "roll:999",
  "",
  "roll:2,alt:11,note:h\u00e9llo \u2713 \u{1F681}",
  "pitch:-3.5,bat_v:12.4,armed:1",
].join("\n");

const NDJSON_BODY = [
  '{"roll":1,"alt":10}',
  '{"roll":2,"alt":11,"ts":"2026-11-26T10:00:00Z"}',
  '{"roll":"bad"}',
].join("\n");

/** A request whose body arrives as the given chunks, with no Content-Length. */
function streamed(chunks: Uint8Array[], contentType = "text/plain"): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  return new Request("http://functions.test/telemetry-parse", {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
}

function whole(body: string, headers: Record<string, string> = {}): Request {
  return new Request("http://functions.test/telemetry-parse", {
    method: "POST",
    headers: { "content-type": "text/plain", ...headers },
    body,
  });
}

/** Cuts bytes into pieces of `size` bytes (the last may be shorter). */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

/** What the parser makes of the whole text at once; the body reader must match it. */
function expected(text: string): Omit<ParseResult, "format"> {
  const { format: _format, ...rest } = parseTelemetry(text, { receivedAt: RECEIVED });
  return rest;
}

async function read(
  request: Request,
  contentType: string,
  limits: BodyLimits = LIMITS,
): Promise<Omit<ParseResult, "format">> {
  const { format: _format, bytes: _bytes, ...rest } = await readTelemetryBody(
    request,
    contentType,
    limits,
    RECEIVED,
  );
  return rest;
}

async function refusal(action: () => unknown) {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code, message: error.message };
  }
  throw new Error("nothing was thrown");
}

Deno.test("checkTelemetryContentType returns each accepted type", async (t) => {
  for (const type of TELEMETRY_CONTENT_TYPES) {
    await t.step(type, () => {
      assertEquals(checkTelemetryContentType(whole("", { "content-type": type })), type);
    });
  }
});

Deno.test("checkTelemetryContentType drops parameters and case", () => {
  assertEquals(
    checkTelemetryContentType(whole("", { "content-type": "Text/Plain; charset=UTF-8" })),
    "text/plain",
  );
  assertEquals(
    checkTelemetryContentType(whole("", { "content-type": " application/x-ndjson ;q=1" })),
    "application/x-ndjson",
  );
});

Deno.test("checkTelemetryContentType reads a missing Content-Type as text/plain", () => {
  const request = new Request("http://functions.test/telemetry-parse", {
    method: "POST",
    body: new Uint8Array([104, 105]),
  });
  assertEquals(request.headers.get("content-type"), null);
  assertEquals(checkTelemetryContentType(request), "text/plain");
});

Deno.test("checkTelemetryContentType throws 415 naming the accepted types", async (t) => {
  for (const type of ["application/xml", "multipart/form-data; boundary=x", "text/csv"]) {
    await t.step(type, async () => {
      const shown = type.split(";")[0];
      assertEquals(
        await refusal(() => checkTelemetryContentType(whole("", { "content-type": type }))),
        {
          status: 415,
          code: "unsupported_media_type",
          message: `Content-Type "${shown}" is not accepted; send one of text/plain, ` +
            "application/json, application/x-ndjson, application/ndjson, application/octet-stream",
        },
      );
    });
  }
});

Deno.test("readTelemetryBody gives the same frames as the whole text for a key:value body", async () => {
  assertEquals(await read(whole(KV_BODY), "text/plain"), expected(KV_BODY));
  assertEquals(expected(KV_BODY).frames.length, 4);
  assertEquals(expected(KV_BODY).rejects.length, 1);
});

Deno.test("readTelemetryBody gives the same result whatever size the chunks are", async (t) => {
  const bytes = new TextEncoder().encode(KV_BODY);
  const want = expected(KV_BODY);
  for (const size of [1, 2, 3, 5, 7, 16, 64, bytes.length]) {
    await t.step(`${size}-byte chunks`, async () => {
      assertEquals(await read(streamed(pieces(bytes, size)), "text/plain"), want);
    });
  }
});

Deno.test("readTelemetryBody gives the same result when the body is split at any byte", async () => {
  const bytes = new TextEncoder().encode(KV_BODY);
  const want = expected(KV_BODY);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const chunks = [bytes.slice(0, cut), bytes.slice(cut)];
    assertEquals(await read(streamed(chunks), "text/plain"), want, `cut at byte ${cut}`);
  }
});

Deno.test("readTelemetryBody streams an NDJSON body in small chunks like the whole text", async () => {
  const bytes = new TextEncoder().encode(NDJSON_BODY);
  assertEquals(
    await read(streamed(pieces(bytes, 3), "application/x-ndjson"), "application/x-ndjson"),
    expected(NDJSON_BODY),
  );
});

Deno.test("readTelemetryBody gives no frames for an empty body", async () => {
  assertEquals(await read(streamed([]), "text/plain"), { frames: [], errors: [], rejects: [] });
  assertEquals(await read(whole(""), "text/plain"), { frames: [], errors: [], rejects: [] });
});

Deno.test("readTelemetryBody throws 413 when the body is over maxBytes", async (t) => {
  const bytes = new TextEncoder().encode(KV_BODY);
  const limits = { maxBytes: bytes.length - 1, maxLines: 1_000 };
  const tooLarge = {
    status: 413,
    code: "payload_too_large",
    message: `Body is larger than ${bytes.length - 1} bytes; split it into several requests`,
  };
  await t.step("with a declared Content-Length", async () => {
    const request = whole(KV_BODY, { "content-length": String(bytes.length) });
    assertEquals(await refusal(() => read(request, "text/plain", limits)), tooLarge);
  });
  await t.step("with a declared Content-Length and a JSON body", async () => {
    const request = whole("[]", { "content-length": String(bytes.length) });
    assertEquals(await refusal(() => read(request, "application/json", limits)), tooLarge);
  });
  await t.step("streamed with no declared length", async () => {
    const request = streamed(pieces(bytes, 10));
    assertEquals(await refusal(() => read(request, "text/plain", limits)), tooLarge);
  });
  await t.step("as JSON with no declared length", async () => {
    const request = streamed([bytes], "application/json");
    assertEquals(await refusal(() => read(request, "application/json", limits)), tooLarge);
  });
  await t.step("as an endless JSON stream, stopping soon after the cap", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode('{"roll": 1},'.repeat(100)));
      },
    });
    const request = new Request("http://functions.test/telemetry-parse", {
      method: "POST",
      body: endless,
      headers: { "content-type": "application/json" },
    });
    assertEquals(await refusal(() => read(request, "application/json", limits)), tooLarge);
    // Each chunk is 1,200 bytes: reading stops within a chunk or two of the cap.
    assertEquals(pulled <= Math.ceil(limits.maxBytes / 1_200) + 2, true, `pulled ${pulled}`);
  });
});

Deno.test("readTelemetryBody accepts a body of exactly maxBytes", async () => {
  const bytes = new TextEncoder().encode(KV_BODY);
  const limits = { maxBytes: bytes.length, maxLines: 1_000 };
  assertEquals(await read(streamed(pieces(bytes, 10)), "text/plain", limits), expected(KV_BODY));
});

Deno.test("readTelemetryBody throws 413 too_many_lines over maxLines", async (t) => {
  const tooMany = {
    status: 413,
    code: "too_many_lines",
    message: "Body has more than 3 lines; split it into several requests",
  };
  const limits = { maxBytes: 1024 * 1024, maxLines: 3 };
  const fourLines = "roll:1\nroll:2\nroll:999\nroll:4\n";
  await t.step("counting rejected lines too", async () => {
    assertEquals(await refusal(() => read(whole(fourLines), "text/plain", limits)), tooMany);
  });
  await t.step("streamed one byte at a time", async () => {
    const request = streamed(pieces(new TextEncoder().encode(fourLines), 1));
    assertEquals(await refusal(() => read(request, "text/plain", limits)), tooMany);
  });
  await t.step("in a JSON array", async () => {
    const request = whole('[{"roll":1},{"roll":2},{"roll":3},{"roll":4}]');
    assertEquals(await refusal(() => read(request, "application/json", limits)), tooMany);
  });
  await t.step("not for blank lines", async () => {
    const request = whole("roll:1\n\n\nroll:2\n\n\nroll:3\n\n");
    assertEquals((await read(request, "text/plain", limits)).frames.length, 3);
  });
});

Deno.test("readTelemetryBody refuses a 5 MiB array of numbers by its line cap before parsing it", async (t) => {
  const limits = { maxBytes: 5 * 1024 * 1024, maxLines: 10_000 };
  const hostile = `[${"1,".repeat(limits.maxBytes / 2 - 2)}1]`;
  const tooMany = {
    status: 413,
    code: "too_many_lines",
    message: "Body has more than 10000 lines; split it into several requests",
  };
  const types: [string, string][] = [["as JSON", "application/json"], ["as text", "text/plain"]];
  for (const [name, type] of types) {
    await t.step(name, async () => {
      const request = streamed(pieces(new TextEncoder().encode(hostile), 65_536), type);
      const before = Deno.memoryUsage().heapUsed;
      assertEquals(await refusal(() => read(request, type, limits)), tooMany);
      // 2.6M reject objects would be hundreds of MB; the text itself is 5 MiB.
      const grown = Deno.memoryUsage().heapUsed - before;
      assertEquals(grown < 40 * 1024 * 1024, true, `heap grew by ${grown} bytes`);
    });
  }
  await t.step("an array of empty objects, in the data envelope's place", async () => {
    const request = whole(`[${"{},".repeat(100_000)}{}]`);
    assertEquals(await refusal(() => read(request, "application/json", limits)), tooMany);
  });
});

Deno.test("readTelemetryBody holds its bytes and frames on the admission ticket", async () => {
  const admission = createAdmission({ maxBytes: 1_000_000, maxFrames: 4, retryAfterSeconds: 1 });
  const other = admission.admit(0);
  other.hold(0, 1);
  const ticket = admission.admit(0);
  const fiveLines = "roll:1\nroll:2\nroll:3\nroll:4\nroll:5\n";
  const request = streamed(pieces(new TextEncoder().encode(fiveLines), 7));
  const limits = { ...LIMITS, ticket };
  assertEquals(await refusal(() => read(request, "text/plain", limits)), {
    status: 503,
    code: "over_capacity",
    message: "The function is at capacity (1000000 body bytes and 4 frames in flight at most); " +
      "nothing of this request was stored, retry after 1 s",
  });
  ticket.release();
  const alone = admission.admit(0);
  other.release();
  const result = await read(whole("roll:1\nroll:2\n"), "text/plain", { ...LIMITS, ticket: alone });
  assertEquals(result.frames.length, 2);
  assertEquals(admission.inFlight(), { bytes: 14, frames: 2, tickets: 1 });
  alone.release();
});

Deno.test("readTelemetryBody parses the text of a {data} JSON envelope", async (t) => {
  const cases: [string, string][] = [
    ["one key:value frame", "roll:15.2,pitch:8.1,alt:150"],
    ["several key:value lines", KV_BODY],
    ["NDJSON text", NDJSON_BODY],
  ];
  for (const [name, text] of cases) {
    await t.step(name, async () => {
      const request = whole(JSON.stringify({ data: text }));
      assertEquals(await read(request, "application/json"), expected(text));
    });
  }
});

Deno.test("readTelemetryBody parses a JSON body that is not an envelope as telemetry", async (t) => {
  const cases: [string, string][] = [
    ["an object", '{"roll":15.2,"pitch":8.1,"alt":150}'],
    ["an array", '[{"roll":1,"alt":10},{"roll":2,"alt":11}]'],
    ["an object with data and another key", '{"data":"roll:1","alt":10}'],
    ["an object whose data is not text", '{"data":{"roll":1}}'],
    ["a pretty-printed object", '{\n  "roll": 1,\n  "alt": 10\n}'],
  ];
  for (const [name, text] of cases) {
    await t.step(name, async () => {
      assertEquals(await read(whole(text), "application/json"), expected(text));
    });
  }
});

Deno.test("readTelemetryBody throws 400 for application/json that is not an object or array", async (t) => {
  const cases: [string, string, string][] = [
    ["a bare string", '"roll:1,alt:10"', "a JSON string"],
    ["a number", "42", "a JSON number"],
    ["true", " true", "a JSON boolean"],
    ["null", "null", "null"],
    ["key:value text", "roll:1,alt:10", "text that is not JSON"],
  ];
  for (const [name, body, found] of cases) {
    await t.step(name, async () => {
      assertEquals(await refusal(() => read(whole(body), "application/json")), {
        status: 400,
        code: "invalid_json_body",
        message: `Body is sent as application/json but is ${found}; send a JSON object or an ` +
          `array of objects, or send key:value lines as text/plain`,
      });
    });
  }
});

Deno.test("checkJsonBodyShape lets an object, an array, NDJSON, a BOM and an empty body pass", () => {
  for (const body of ['{"roll":1}', " [1]", '{"roll":1}\n{"roll":2}', "\uFEFF{}", "", "  \n"]) {
    checkJsonBodyShape(body);
  }
});

Deno.test("readTelemetryBody reads the envelope's frames, not one frame named data", async () => {
  const result = await read(whole('{"data":"roll:1\\nroll:2"}'), "application/json");
  assertEquals(result.frames.map((frame) => frame.line), [1, 2]);
  assertEquals(result.errors, []);
});

Deno.test("readTelemetryBody counts the bytes it read, for the device's byte quota", async () => {
  const text = "roll:1,alt:10\nroll:é\n";
  const body = new TextEncoder().encode(text);
  const result = await readTelemetryBody(streamed(pieces(body, 3)), "text/plain", LIMITS, RECEIVED);
  assertEquals(result.bytes, body.length);
});
