import { assertEquals } from "@std/assert";
import { createAdmission } from "./admission.ts";
import { HttpError } from "./http.ts";
import { readBodyCapped, readJsonBody, readTextCapped } from "./body_reader.ts";

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

function jsonRequest(body: string, headers: Record<string, string> = {}): Request {
  return new Request("http://functions.test/x", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

Deno.test("readJsonBody returns the parsed body", async (t) => {
  const cases: [string, Request, unknown][] = [
    ["an object", jsonRequest('{"name":"drone"}'), { name: "drone" }],
    ["an array", jsonRequest("[1,2]"), [1, 2]],
    ["an empty body as {}", jsonRequest(""), {}],
    ["a blank body as {}", jsonRequest(" \n\t"), {}],
    [
      "with a charset parameter",
      jsonRequest('{"a":1}', { "content-type": "application/json; charset=utf-8" }),
      { a: 1 },
    ],
    [
      "with an upper-case type",
      jsonRequest('{"a":1}', { "content-type": "Application/JSON" }),
      { a: 1 },
    ],
    ["exactly at the limit", jsonRequest(`"${"x".repeat(14)}"`), "x".repeat(14)],
  ];
  for (const [name, request, expected] of cases) {
    await t.step(name, async () => {
      assertEquals(await readJsonBody(request, 16), expected);
    });
  }
});

Deno.test("readJsonBody refuses", async (t) => {
  const cases: [string, Request, ReturnType<typeof describe>][] = [
    [
      "415 when the content type is missing",
      new Request("http://functions.test/x", { method: "POST", body: "{}" }),
      {
        status: 415,
        code: "unsupported_media_type",
        message: "Content-Type must be application/json",
        details: undefined,
        headers: {},
      },
    ],
    [
      "415 when the content type is text/plain",
      jsonRequest("{}", { "content-type": "text/plain" }),
      {
        status: 415,
        code: "unsupported_media_type",
        message: "Content-Type must be application/json",
        details: undefined,
        headers: {},
      },
    ],
    [
      "413 when the declared length is over the limit",
      jsonRequest("{}", { "content-length": "17" }),
      {
        status: 413,
        code: "payload_too_large",
        message: "Body is larger than 16 bytes",
        details: { max_bytes: 16 },
        headers: {},
      },
    ],
    [
      "413 when the body is over the limit without a declared length",
      jsonRequest(`"${"x".repeat(15)}"`),
      {
        status: 413,
        code: "payload_too_large",
        message: "Body is larger than 16 bytes",
        details: { max_bytes: 16 },
        headers: {},
      },
    ],
    [
      "413 when multi-byte characters put the body over the limit",
      jsonRequest(`"${"é".repeat(8)}"`),
      {
        status: 413,
        code: "payload_too_large",
        message: "Body is larger than 16 bytes",
        details: { max_bytes: 16 },
        headers: {},
      },
    ],
    [
      "400 when the body is not JSON",
      jsonRequest("{name: 1}"),
      {
        status: 400,
        code: "invalid_json",
        message: "Body is not valid JSON",
        details: undefined,
        headers: {},
      },
    ],
  ];
  for (const [name, request, expected] of cases) {
    await t.step(name, async () => {
      assertEquals(await thrown(() => readJsonBody(request, 16)), expected);
    });
  }
});

/** A body sent in pieces without Content-Length, as a chunked upload arrives. */
function chunkedRequest(pieces: string[], type = "application/json"): Request {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
  return new Request("http://functions.test/x", {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
}

Deno.test("readJsonBody refuses a chunked body over the cap without reading it all", async () => {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024).fill(0x20));
    },
  });
  const request = new Request("http://functions.test/x", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const error = await thrown(() => readJsonBody(request, 4096));
  assertEquals(error.status, 413);
  assertEquals(error.code, "payload_too_large");
  // An endless body: read up to the first chunk past the cap, then refused.
  assertEquals(pulled <= 6, true, `pulled ${pulled} chunks`);
});

Deno.test("readTextCapped reads a chunked body within the cap, multi-byte text split anywhere", async () => {
  const text = "é".repeat(10);
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
      controller.close();
    },
  });
  const request = new Request("http://functions.test/x", { method: "POST", body });
  assertEquals(await readTextCapped(request, { maxBytes: 20 }), text);
  assertEquals(
    (await thrown(() => readTextCapped(chunkedRequest(["x".repeat(21)]), { maxBytes: 20 }))).code,
    "payload_too_large",
  );
});

Deno.test("readBodyCapped holds the bytes read on the admission ticket and refuses past the budget", async () => {
  const admission = createAdmission({ maxBytes: 100, maxFrames: 10, retryAfterSeconds: 1 });
  const other = admission.admit(60);
  const ticket = admission.admit(0);
  const read: number[] = [];
  const error = await thrown(async () => {
    for await (
      const chunk of readBodyCapped(chunkedRequest(["a".repeat(30), "b".repeat(30)]), {
        maxBytes: 1000,
        ticket,
      })
    ) {
      read.push(chunk.length);
    }
  });
  assertEquals(read, [30]);
  assertEquals(error.status, 503);
  assertEquals(error.code, "over_capacity");
  assertEquals(error.headers, { "retry-after": "1" });
  // The refused request has let go of its 30 bytes at once; the other's 60 stay.
  assertEquals(admission.inFlight(), { bytes: 60, frames: 0, tickets: 1 });
  ticket.release();
  other.release();
  assertEquals(admission.inFlight(), { bytes: 0, frames: 0, tickets: 0 });
});
