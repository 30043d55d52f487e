/**
 * Caps hold while a body is read, end to end through the gateway: a hostile JSON array over the
 * line cap is refused with 413 before it is parsed (and the function lives on); a streaming
 * request of blank lines ends at its byte cap; `POST /devices` refuses a chunked body over its
 * cap without reading it all.
 */
import { assert, assertEquals } from "@std/assert";
import { runningPid } from "../../scripts/stack/processes.ts";
import {
  callFunction,
  createDevice,
  createUser,
  FUNCTIONS_URL,
  jsonOf,
  sendTelemetry,
} from "./_helpers.ts";

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const STREAM_MAX_BYTES = 16 * 1024 * 1024;

/** An endless (or `limit`-byte) body of one repeated chunk, counting what was pulled. */
function repeating(chunk: Uint8Array, limit = Infinity) {
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= limit) return controller.close();
      state.pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}

Deno.test("telemetry-parse refuses a 5 MiB JSON array of numbers with 413 too_many_lines, and stays up", async () => {
  const device = await createDevice(await createUser(), "hostile array");
  const pid = runningPid("function-telemetry-parse");
  const hostile = `[${"1,".repeat(MAX_BODY_BYTES / 2 - 2)}1]`;
  assertEquals(hostile.length, MAX_BODY_BYTES - 1);
  const started = performance.now();
  const { status, body } = await jsonOf(
    await sendTelemetry(device, hostile, { "content-type": "application/json" }),
  );
  const ms = Math.round(performance.now() - started);
  // deno-lint-ignore no-console -- the figure the issue asks for, in the test log
  console.log(`5 MiB [1,1,...] refused in ${ms} ms`);
  assertEquals([status, body.error.code, body.error.details], [413, "too_many_lines", {
    max_lines: 10_000,
  }]);
  // The same process answers the next request: it did not die of the array.
  assertEquals(runningPid("function-telemetry-parse"), pid);
  const next = await jsonOf(await sendTelemetry(device, "roll:1"));
  assertEquals([next.status, next.body.stored], [200, true]);
});

Deno.test("telemetry-parse ?stream=true ends a stream of blank lines at a cap, never reads it whole", async () => {
  const device = await createDevice(await createUser(), "blank streamer");
  const first = new TextEncoder().encode(`roll:1,ts:${new Date().toISOString()}\n`);
  const blanks = repeating(new Uint8Array(64 * 1024).fill(0x0a), STREAM_MAX_BYTES + (1 << 20));
  let sentFirst = false;
  const reader = blanks.stream.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentFirst) {
        sentFirst = true;
        return controller.enqueue(first);
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: () => reader.cancel(),
  });
  const { status, body: answer } = await jsonOf(
    await sendTelemetry(device, body, {}, { stream: "true", max_seconds: "60" }),
  );
  // Blank lines are not free: 16 MiB of them is millions of lines to parse, so the stream ends at
  // whichever cap it reaches first, its bytes or its CPU budget (700 ms by default); the byte
  // cap alone is shown in shared/ingest/stream_ingest_test.ts.
  assertEquals([status, answer.accepted, answer.stream.lines], [200, 1, 1]);
  assert(
    ["byte_limit", "cpu_limit"].includes(answer.stream.ended),
    `ended: ${answer.stream.ended}`,
  );
});

Deno.test("devices refuses an endless chunked body with 413 at its 4 KiB cap", async () => {
  const owner = await createUser();
  // A body that never ends: reading it whole before checking its size would never answer.
  const endless = repeating(new TextEncoder().encode(`{"name":"${"x".repeat(1000)}`));
  const upload = new AbortController();
  const response = await callFunction("devices", {
    method: "POST",
    headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/json" },
    body: endless.stream,
    signal: upload.signal,
  });
  const { status, body } = await jsonOf(response);
  upload.abort();
  assertEquals([status, body.error.code, body.error.details], [413, "payload_too_large", {
    max_bytes: 4096,
  }]);
  // deno-lint-ignore no-console -- the figure the issue asks for, in the test log
  console.log(`devices answered 413 after the client produced ${endless.state.pulled} bytes`);
  // The gateway stops taking the upload once the function has answered: on Deno.serve it went on
  // copying it (533 MB in one CI run) and answered nobody else meanwhile.
  assert(endless.state.pulled < 32 * 1024 * 1024, `client produced ${endless.state.pulled} bytes`);
  const health = await callFunction("health", { method: "GET" });
  await health.body?.cancel();
  assertEquals(health.status, 200);
});

Deno.test("a declared Content-Length over the cap reaches the function through the gateway, which refuses it unread", async () => {
  const owner = await createUser();
  // A raw request: fetch would send a streamed body chunked and drop the declared length.
  const { hostname, port } = new URL(FUNCTIONS_URL);
  const connection = await Deno.connect({ hostname, port: Number(port) });
  const head = [
    "POST /functions/v1/devices HTTP/1.1",
    `Host: ${hostname}:${port}`,
    `Authorization: Bearer ${owner.token}`,
    "Content-Type: application/json",
    "Content-Length: 1000000",
    "Connection: close",
    "",
    "",
  ].join("\r\n");
  // Only the head and 2 bytes of the declared million are sent: the answer must not wait for more.
  await connection.write(new TextEncoder().encode(head + "{}"));
  // A gateway that sent the body on chunked left the function waiting for the rest: give up
  // after 30 s, so that such a regression fails here instead of hanging the suite.
  const giveUp = setTimeout(() => connection.close(), 30_000);
  let answer = "";
  const buffer = new Uint8Array(16_384);
  try {
    while (!answer.includes("payload_too_large")) {
      const read = await connection.read(buffer);
      if (read === null) break;
      answer += new TextDecoder().decode(buffer.subarray(0, read));
    }
  } catch {
    // closed by giveUp: the assertions below say what arrived
  }
  clearTimeout(giveUp);
  try {
    connection.close();
  } catch {
    // already closed by giveUp
  }
  assert(answer.startsWith("HTTP/1.1 413"), answer.slice(0, 200));
  assert(answer.includes('"max_bytes":4096'), answer);
});
