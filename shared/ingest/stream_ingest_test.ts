import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { HttpError } from "../platform/http.ts";
import { createReceiveClock } from "./receive_clock.ts";
import {
  ingestStream,
  type StreamChunk,
  type StreamClock,
  type StreamOptions,
} from "./stream_ingest.ts";

const RECEIVED_AT = new Date("2026-11-26T12:00:00.000Z");

/**
 * A clock whose timers fire on the next macrotask and move time to their end: a read of a chunk
 * already queued (microtasks) always wins over them, a stalled body never does.
 */
function fakeClock(): StreamClock & { time: number } {
  const clock = {
    time: 0,
    now: () => clock.time,
    after(ms: number) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          clock.time += ms;
          resolve();
        }, 0);
      });
      return { done, cancel: () => clearTimeout(timer) };
    },
  };
  return clock;
}

/** A body of the given pieces, left open unless `close`; records whether it was cancelled. */
function body(pieces: string[], close: boolean) {
  const state = { cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(new TextEncoder().encode(piece));
      if (close) controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

function line(n: number): string {
  return `roll:${n},ts:2026-11-26T11:00:${String(n).padStart(2, "0")}Z\n`;
}

function options(
  clock: StreamClock,
  stored: { chunk: StreamChunk; at: number }[],
  overrides: Partial<StreamOptions<number>> = {},
): StreamOptions<number> {
  return {
    chunkFrames: 3,
    chunkMs: 500,
    maxLines: 1000,
    maxBytes: 1_000_000,
    deadline: 10_000,
    receivedAt: RECEIVED_AT,
    receiveClock: createReceiveClock(() => RECEIVED_AT.getTime()),
    clock,
    maxErrors: 100,
    cpuBudgetMs: 1_500,
    cpu: () => 0,
    store: (chunk) => {
      stored.push({ chunk, at: clock.now() });
      return Promise.resolve(chunk.number);
    },
    ...overrides,
  };
}

Deno.test("ingestStream stores every chunkFrames lines and the rest at the end of the body", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const { stream } = body([line(1), line(2) + line(3) + "roll:999\n", line(5)], true);
  const result = await ingestStream(stream, options(clock, stored));
  assertEquals(
    stored.map(({ chunk }) => ({
      number: chunk.number,
      frames: chunk.frames.map((row) => row.roll_degrees),
      rejects: chunk.rejects.map((reject) => reject.line_number),
    })),
    [
      { number: 0, frames: [1, 2, 3], rejects: [] },
      // The reject was pending with the first 3 frames; line 5 came in a later read.
      { number: 1, frames: [], rejects: [4] },
      { number: 2, frames: [5], rejects: [] },
    ],
  );
  assertEquals(
    { ...result, errors: result.errors.map((error) => error.line) },
    {
      accepted: 4,
      rejected: 1,
      errors: [4],
      bytes: 4 * line(1).length + "roll:999\n".length,
      chunks: 3,
      lines: 5,
      ended: "end_of_body",
      last: 2,
      cpuMs: 0,
      resumeAfter: "2026-11-26T11:00:05.000000Z",
    },
  );
});

Deno.test("ingestStream stores pending lines after chunkMs while the body stays open", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const { stream, state } = body([line(1)], false);
  const result = await ingestStream(stream, options(clock, stored));
  // Stored 500 ms after the line was read, long before the deadline ended the request.
  assertEquals(stored.map(({ chunk, at }) => ({ frames: chunk.frames.length, at })), [
    { frames: 1, at: 500 },
  ]);
  assertEquals(result.ended, "time_limit");
  assertEquals(result.accepted, 1);
  assertEquals(state.cancelled, true);
});

Deno.test("ingestStream keeps one timer while the time it wakes at stays the same", async () => {
  const clock = fakeClock();
  let timers = 0;
  const counted: StreamClock = {
    now: clock.now,
    after(ms) {
      timers++;
      return clock.after(ms);
    },
  };
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const lines = Array.from({ length: 10 }, (_, i) => line(i + 1));
  const { stream } = body(lines, false);
  const result = await ingestStream(
    stream,
    options(counted, stored, { chunkFrames: 100 }),
  );
  // The deadline's timer, then the pending chunk's for all ten reads, then the deadline's again.
  assertEquals(stored.map(({ chunk, at }) => [chunk.frames.length, at]), [[10, 500]]);
  assertEquals([result.ended, result.accepted, timers], ["time_limit", 10, 3]);
});

Deno.test("ingestStream answers at the deadline with what it read, cancelling the body", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const { stream, state } = body([line(1) + line(2)], false);
  const result = await ingestStream(stream, options(clock, stored, { deadline: 200 }));
  assertEquals(stored.map(({ chunk, at }) => ({ frames: chunk.frames.length, at })), [
    { frames: 2, at: 200 },
  ]);
  assertEquals([result.ended, result.accepted, result.chunks, state.cancelled], [
    "time_limit",
    2,
    1,
    true,
  ]);
});

Deno.test("ingestStream answers after maxLines lines without reading the rest", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const { stream, state } = body([line(1) + line(2), line(3)], false);
  const result = await ingestStream(stream, options(clock, stored, { maxLines: 2 }));
  assertEquals([result.ended, result.lines, result.accepted, state.cancelled], [
    "line_limit",
    2,
    2,
    true,
  ]);
});

Deno.test("ingestStream ends at maxBytes, blank lines counted, without parsing the read past it", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const blanks = "\n".repeat(100);
  const { stream, state } = body([line(1), blanks, blanks, line(2)], false);
  const maxBytes = line(1).length + 150;
  const result = await ingestStream(stream, options(clock, stored, { maxBytes }));
  assertEquals([result.ended, result.lines, result.accepted, result.bytes, state.cancelled], [
    "byte_limit",
    1,
    1,
    line(1).length + 100,
    true,
  ]);
});

Deno.test("ingestStream tells onPending what waits to be stored, and a refusal keeps the progress", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const told: number[] = [];
  const { stream } = body([line(1) + line(2) + line(3), line(4) + line(5)], false);
  const error = await assertRejects(() =>
    ingestStream(
      stream,
      options(clock, stored, {
        onPending: (lines) => {
          told.push(lines);
          if (lines === 2) throw new HttpError(503, "over_capacity", "Full");
        },
      }),
    ), HttpError);
  assertEquals(told, [3, 0, 2]);
  assertEquals(error.status, 503);
  assertEquals(error.details, { stored_frames: 3, stored_chunks: 1 });
});

Deno.test("ingestStream gives frames without a timestamp distinct receive times", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const { stream } = body(["roll:1\nroll:2\n"], true);
  await ingestStream(stream, options(clock, stored));
  assertEquals(stored[0]?.chunk.frames.map((row) => row.recorded_at), [
    "2026-11-26T12:00:00.000000Z",
    "2026-11-26T12:00:00.000001Z",
  ]);
});

Deno.test("ingestStream rejects a JSON document body with 400 before storing", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  const { stream } = body(['[{"roll": 1}]\n'], true);
  const error = await assertRejects(() => ingestStream(stream, options(clock, stored)), HttpError);
  assertEquals([error.status, error.code, stored.length], [400, "invalid_stream_body", 0]);
});

Deno.test("ingestStream tells how much was stored when a later chunk fails", async () => {
  const clock = fakeClock();
  const { stream } = body([line(1) + line(2) + line(3) + line(4)], true);
  let calls = 0;
  const error = await assertRejects(() =>
    ingestStream(stream, {
      ...options(clock, []),
      store: (chunk) => {
        if (calls++ > 0) return Promise.reject(new HttpError(503, "database_unavailable", "Down"));
        return Promise.resolve(chunk.number);
      },
    }), HttpError);
  assertInstanceOf(error, HttpError);
  assertEquals([error.status, error.message, error.details], [
    503,
    "Down; 3 frames of this stream were stored before",
    { "stored_frames": 3, "stored_chunks": 1 },
  ]);
});

Deno.test("ingestStream ends before its CPU budget, after a stored chunk, with where to resume", async () => {
  const clock = fakeClock();
  const stored: { chunk: StreamChunk; at: number }[] = [];
  // Each read of 2 lines costs 10 ms of CPU (charged while parsing); storing costs 5 ms.
  let cpu = 0;
  const pieces = Array.from({ length: 20 }, (_, i) => line(2 * i + 1) + line(2 * i + 2));
  const source = pieces.values();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = source.next();
      if (next.done) controller.close();
      else {
        cpu += 10;
        controller.enqueue(new TextEncoder().encode(next.value));
      }
    },
  });
  const result = await ingestStream(
    stream,
    options(clock, stored, {
      cpuBudgetMs: 60,
      cpu: () => cpu,
      store: (chunk) => {
        cpu += 5;
        stored.push({ chunk, at: clock.now() });
        return Promise.resolve(chunk.number);
      },
    }),
  );
  assertEquals(result.ended, "cpu_limit");
  assert(result.cpuMs <= 60, `charged ${result.cpuMs} ms`);
  // Every line read was stored before the answer: the counts are what is durable.
  const storedFrames = stored.flatMap(({ chunk }) => chunk.frames);
  assertEquals(result.accepted, storedFrames.length);
  assertEquals(result.lines, storedFrames.length);
  assert(result.lines >= 2 && result.lines < 40, `read ${result.lines} lines`);
  assertEquals(result.resumeAfter, storedFrames.at(-1)?.recorded_at);
});
