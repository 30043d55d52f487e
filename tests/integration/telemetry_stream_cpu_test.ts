/**
 * A streaming request that would pass its CPU budget is ended cleanly before it: a normal 200 with
 * what it stored and where to resume, every counted frame durable, and the device client's
 * streamer carries on from there. A small `max_cpu_ms` makes the limit come in a second or two
 * (400: room for the 100 ms that stream_ingest.ts holds back for a step dearer than any before).
 */
import { assert, assertEquals } from "@std/assert";
import { streamFrames } from "../../scripts/device/client.ts";
import type { Frame } from "../../scripts/device/send.ts";
import { realisticFrame } from "../../scripts/bench/frames.ts";
import {
  callFunction,
  createDevice,
  createUser,
  FUNCTIONS_URL,
  jsonOf,
  sql,
  type TestDevice,
} from "./_helpers.ts";

const BASE = Date.now() - 7_200_000;

/** A realistic 25-field frame: parsing 10,000 of them (the line cap) takes well over 150 ms. */
function frame(i: number): Frame {
  return realisticFrame(i, new Date(BASE + i * 10).toISOString());
}

async function stored(device: TestDevice): Promise<{ count: number; newest: string | null }> {
  const row = await sql(`
    select count(*) || '|' || coalesce(to_char(max(recorded_at) at time zone 'UTC',
      'YYYY-MM-DD"T"HH24:MI:SS.US'), '')
    from public.telemetry_frames where device_id = '${device.id}'`);
  const [count, newest] = row.split("|");
  return { count: Number(count), newest: newest ? newest : null };
}

/** Frames written as fast as the function reads them: 200 a write, until the answer comes. */
function fastBody(): { body: ReadableStream<Uint8Array>; written: () => number } {
  const encoder = new TextEncoder();
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const lines = Array.from({ length: 200 }, () => JSON.stringify(frame(next++)) + "\n");
      controller.enqueue(encoder.encode(lines.join("")));
    },
  });
  return { body, written: () => next };
}

Deno.test("a stream past its CPU budget ends with a 200, its stored count and where to resume", async () => {
  const device = await createDevice(await createUser());
  const { body, written } = fastBody();
  const { status, body: answer } = await jsonOf(
    await callFunction("telemetry-parse", {
      method: "POST",
      headers: { authorization: `Bearer ${device.key}`, "content-type": "application/x-ndjson" },
      body,
      query: { stream: "true", "max_cpu_ms": "400", "max_seconds": "60" },
    }),
  );
  assertEquals(status, 200, JSON.stringify(answer));
  assertEquals(answer.stream.ended, "cpu_limit");
  assert(answer.stream.cpu_ms <= 400, `charged ${answer.stream.cpu_ms} ms`);
  assert(answer.accepted > 0 && answer.accepted < written(), `accepted ${answer.accepted}`);
  assertEquals(answer.stream.lines, answer.accepted);
  // Exactly what the answer counts is durable, up to the resume point it names.
  const { count, newest } = await stored(device);
  assertEquals(count, answer.accepted);
  assertEquals(answer.stream.resume_after.slice(0, 26), newest);
  assertEquals(
    new Date(answer.stream.resume_after).getTime(),
    new Date(frame(answer.accepted - 1).recorded_at as string).getTime(),
  );
});

Deno.test("max_cpu_ms out of range is a 400 naming it", async () => {
  const device = await createDevice(await createUser());
  for (const value of ["0", "abc", "2001"]) {
    const { status, body } = await jsonOf(
      await callFunction("telemetry-parse", {
        method: "POST",
        headers: { authorization: `Bearer ${device.key}` },
        body: "roll:1\n",
        query: { stream: "true", "max_cpu_ms": value },
      }),
    );
    assertEquals(status, 400);
    assertEquals(body.error.details.parameter, "max_cpu_ms");
  }
});

Deno.test("the device streamer follows CPU-limited answers and stores every frame once", async () => {
  const device = await createDevice(await createUser());
  const total = 6_000;
  async function* frames(): AsyncGenerator<Frame> {
    for (let i = 0; i < total; i++) {
      if (i % 300 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      yield frame(i);
    }
  }
  const stats = await streamFrames(frames(), {
    functionsUrl: FUNCTIONS_URL,
    deviceKey: device.key,
    maxCpuMs: 100,
    maxSeconds: 60,
  });
  assert(stats.ends.includes("cpu_limit"), `ends: ${stats.ends.join(", ")}`);
  // The last request ends at the end of the body, or at the limit when it had read every line.
  assert(stats.requests >= 2, `${stats.requests} requests`);
  assertEquals(stats.accepted, total);
  assertEquals(stats.rejected, 0);
  const { count } = await stored(device);
  assertEquals(count, total);
  const distinct = Number(
    await sql(
      `select count(distinct recorded_at) from public.telemetry_frames where device_id = '${device.id}'`,
    ),
  );
  assertEquals(distinct, total);
});
