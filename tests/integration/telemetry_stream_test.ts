/**
 * Streaming ingest end to end: one telemetry-parse request held open (?stream=true), its body
 * sent line by line through the gateway to the real function, PostgREST, Postgres and Redis.
 * Proves the gateway streams request bodies through (frames are stored while the request is
 * still open), the time limit's clean answer and the resume point.
 */
import { assert, assertEquals } from "@std/assert";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sql,
  type TestDevice,
} from "./_helpers.ts";

/** A streaming request in progress: lines go out as `send` is called. */
interface OpenStream {
  send(text: string): void;
  close(): void;
  /** Settles when the function answers (at the end of the body or its limit). */
  response: Promise<Response>;
  answered(): boolean;
}

function openStream(device: TestDevice, query: Record<string, string> = {}): OpenStream {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      open = false;
    },
  });
  let answered = false;
  const response = callFunction("telemetry-parse", {
    method: "POST",
    headers: { authorization: `Bearer ${device.key}`, "content-type": "text/plain" },
    body,
    query: { stream: "true", ...query },
  }).finally(() => answered = true);
  return {
    send(text) {
      if (open) controller.enqueue(encoder.encode(text));
    },
    close() {
      if (open) controller.close();
      open = false;
    },
    response,
    answered: () => answered,
  };
}

const BASE = Date.now() - 3_600_000;

/** Line i: a frame timestamped BASE + i × 100 ms. */
function frameLine(i: number): string {
  return `roll:${i % 90},alt:${i},ts:${new Date(BASE + i * 100).toISOString()}\n`;
}

async function storedCount(deviceId: string): Promise<number> {
  return Number(
    await sql(`select count(*) from public.telemetry_frames where device_id = '${deviceId}'`),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function newDevice(): Promise<TestDevice> {
  return await createDevice(await createUser());
}

Deno.test("telemetry-parse ?stream=true stores frames while the request is open and counts them at its end", async () => {
  const device = await newDevice();
  const stream = openStream(device);
  for (let i = 1; i <= 3; i++) stream.send(frameLine(i));
  const sent = performance.now();
  let count = 0;
  while (count < 3 && performance.now() - sent < 5_000) {
    await sleep(50);
    count = await storedCount(device.id);
  }
  const visibleAfterMs = performance.now() - sent;
  assertEquals(count, 3, "the first frames are queryable while the request is still open");
  assertEquals(stream.answered(), false);
  // The chunk interval is 1 s: queryable within about a second of being sent.
  assert(visibleAfterMs < 1_600, `visible after ${Math.round(visibleAfterMs)} ms`);

  stream.send("roll:400,ts:2026-01-01T00:00:00Z\n"); // line 4: roll out of range
  stream.send(frameLine(5));
  const closedAt = Date.now();
  stream.close();
  const { status, body } = await jsonOf(await stream.response);
  assertEquals(status, 200);
  // The answer's time is when it was made, after the body ended, not when the request began.
  assert(
    Date.parse(body.timestamp) >= closedAt - 5,
    `timestamp ${body.timestamp} is before the body ended at ${new Date(closedAt).toISOString()}`,
  );
  assertEquals(
    {
      success: body.success,
      stored: body.stored,
      accepted: body.accepted,
      rejected: body.rejected,
      errorLines: body.errors.map((error: { line: number }) => error.line),
      ended: body.stream.ended,
      lines: body.stream.lines,
    },
    {
      success: true,
      stored: true,
      accepted: 4,
      rejected: 1,
      errorLines: [4],
      ended: "end_of_body",
      lines: 5,
    },
  );
  assertEquals(await storedCount(device.id), 4);
  assertEquals(
    await sql(
      `select line_number from telemetry.telemetry_rejects where device_id = '${device.id}'`,
    ),
    "4",
  );
});

Deno.test("telemetry-parse ?stream=true cut at max_seconds keeps every acknowledged frame, and a resume with overlap stores each frame once", async () => {
  const device = await newDevice();
  const stream = openStream(device, { "max_seconds": "2" });
  let sent = 0;
  const started = performance.now();
  // 20 Hz until the function answers (or 6 s, which would mean it ignored its limit).
  while (!stream.answered() && performance.now() - started < 6_000) {
    stream.send(frameLine(++sent));
    await sleep(50);
  }
  const { status, body } = await jsonOf(await stream.response);
  const answeredAfterMs = performance.now() - started;
  stream.close();
  assertEquals(status, 200);
  assertEquals(body.stream.ended, "time_limit");
  assert(answeredAfterMs < 3_500, `answered after ${Math.round(answeredAfterMs)} ms`);
  assert(body.accepted > 10 && body.accepted <= sent, `accepted ${body.accepted} of ${sent}`);
  assertEquals(body.rejected, 0);
  // Every acknowledged frame is stored: the first `accepted` lines, in order, and nothing more.
  assertEquals(await storedCount(device.id), body.accepted);
  const last = new Date(BASE + body.accepted * 100).toISOString();
  assertEquals(
    await sql(
      `select max(recorded_at) = '${last}'::timestamptz from public.telemetry_frames where device_id = '${device.id}'`,
    ),
    "t",
  );

  // The resume point is that last frame.
  const resume = await jsonOf(
    await callFunction("telemetry-parse", {
      method: "GET",
      headers: { authorization: `Bearer ${device.key}` },
    }),
  );
  assertEquals(resume.status, 200);
  assertEquals(resume.body.device_id, device.id);
  assertEquals(new Date(resume.body.last_recorded_at).toISOString(), last);

  // The device re-sends from 5 lines before its resume point: the overlap is dropped by key.
  const again = openStream(device);
  const total = body.accepted + 10;
  for (let i = body.accepted - 4; i <= total; i++) again.send(frameLine(i));
  again.close();
  const second = await jsonOf(await again.response);
  assertEquals([second.status, second.body.accepted, second.body.stream.ended], [
    200,
    15,
    "end_of_body",
  ]);
  assertEquals(await storedCount(device.id), total);
  await sql(`select public.flush_telemetry()`);
  assertEquals(
    await sql(`select count(*) from telemetry.telemetry where device_id = '${device.id}'`),
    String(total),
  );
});

Deno.test("telemetry-parse GET answers a null resume point for a device with no frames, 401 without a key", async () => {
  const device = await newDevice();
  const { status, body } = await jsonOf(
    await callFunction("telemetry-parse", {
      method: "GET",
      headers: { authorization: `Bearer ${device.key}` },
    }),
  );
  assertEquals([status, body.success, body.device_id, body.last_recorded_at], [
    200,
    true,
    device.id,
    null,
  ]);
  const anonymous = await jsonOf(await callFunction("telemetry-parse", { method: "GET" }));
  assertEquals([anonymous.status, anonymous.body.error.code], [401, "missing_device_key"]);
});
