import { assert, assertEquals, assertRejects } from "@std/assert";
import { readWithin } from "./body_deadline.ts";
import { HttpError } from "./http.ts";
import { readTelemetryBody } from "../ingest/telemetry_body.ts";

const encoder = new TextEncoder();

/** A body that sends its first chunk and then never another, like a client that stalled. */
function stalled(first: string): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(first));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of chunks) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

Deno.test("readWithin yields every chunk of a body that ends in time", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of ["roll:1\n", "roll:2\n", "roll:3"]) {
        controller.enqueue(encoder.encode(piece));
      }
      controller.close();
    },
  });
  assertEquals(await collect(readWithin(stream, 60_000)), "roll:1\nroll:2\nroll:3");
});

Deno.test("readWithin throws 408 body_timeout and cancels a body that stalls", async () => {
  const { stream, cancelled } = stalled("roll:1\n");
  const started = performance.now();
  const error = await assertRejects(() => collect(readWithin(stream, 30)), HttpError);
  assertEquals([error.status, error.code], [408, "body_timeout"]);
  assertEquals(
    error.message,
    "Body did not arrive within 30 ms; send it at once, or in smaller requests",
  );
  assertEquals(error.details, { timeout_ms: 30 });
  assert(performance.now() - started >= 25, "cut off before its deadline");
  assert(cancelled(), "the rest of the body was not cancelled");
});

Deno.test("readTelemetryBody throws 408 when the body does not arrive within timeoutMs", async () => {
  const request = new Request("http://functions.test/telemetry-parse", {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: stalled("roll:1,ts:2026-11-26T10:00:00Z\nroll:2").stream,
  });
  const error = await assertRejects(
    () =>
      readTelemetryBody(
        request,
        "text/plain",
        { maxBytes: 1024, maxLines: 10, timeoutMs: 30 },
        new Date("2026-11-26T12:00:00Z"),
      ),
    HttpError,
  );
  assertEquals([error.status, error.code], [408, "body_timeout"]);
});

Deno.test("readWithin cuts a trickle off once its waits add up to the deadline", async () => {
  // A chunk every 15 ms: no single wait reaches 40 ms, their sum does.
  let sent = 0;
  const trickle = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 15));
      controller.enqueue(encoder.encode(`roll:${++sent}\n`));
    },
  });
  const error = await assertRejects(() => collect(readWithin(trickle, 40)), HttpError);
  assertEquals(error.code, "body_timeout");
  assert(sent <= 5, `read ${sent} chunks`);
});

Deno.test("readWithin does not charge the caller's time between reads to the client", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of ["roll:1\n", "roll:2\n", "roll:3\n"]) {
        controller.enqueue(encoder.encode(piece));
      }
      controller.close();
    },
  });
  let chunks = 0;
  for await (const _chunk of readWithin(stream, 30)) {
    chunks++;
    // A busy isolate parsing the chunk: 3 x 20 ms is past the 30 ms, the client waited for none.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assertEquals(chunks, 3);
});
