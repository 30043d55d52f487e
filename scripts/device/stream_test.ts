import { assert, assertEquals } from "@std/assert";
import type { Frame } from "./send.ts";
import { DEFAULT_WRITE_INTERVAL_MS, streamFrames } from "./stream.ts";

/** A device producing `count` frames, one every `everyMs`. */
async function* framesEvery(count: number, everyMs: number): AsyncGenerator<Frame> {
  for (let n = 0; n < count; n++) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    yield { n };
  }
}

/**
 * A transport that reads each request's body write by write, as the function does, noting when
 * each write came and which frames it held, then answers that every line was stored.
 */
function recordingFetch() {
  const writes: { at: number; frames: number[] }[] = [];
  const doFetch = async (_url: string | URL | Request, init?: RequestInit) => {
    const decoder = new TextDecoder();
    let lines = 0;
    for await (const chunk of init?.body as ReadableStream<Uint8Array>) {
      const frames = decoder.decode(chunk).trim().split("\n").map((line) => JSON.parse(line).n);
      writes.push({ at: Date.now(), frames });
      lines += frames.length;
    }
    return Response.json({
      accepted: lines,
      rejected: 0,
      stream: { lines, ended: "end_of_body", "resume_after": null },
    });
  };
  return { doFetch: doFetch as typeof fetch, writes };
}

/** Streams 40 frames, one every 5 ms, through recordingFetch (writeIntervalMs: its default). */
async function streamForty(writeIntervalMs?: number) {
  const { doFetch, writes } = recordingFetch();
  const stats = await streamFrames(framesEvery(40, 5), {
    functionsUrl: "http://api.test/functions/v1",
    deviceKey: "key",
    fetch: doFetch,
    ...(writeIntervalMs === undefined ? {} : { writeIntervalMs }),
  });
  return { stats, writes };
}

Deno.test("streamFrames writes the frames that came together, at most every writeIntervalMs", async () => {
  const { stats, writes } = await streamForty();
  assertEquals([stats.requests, stats.accepted], [1, 40]);
  assertEquals(writes.flatMap((write) => write.frames), [...Array(40).keys()]);
  // About 200 ms of frames: the first write at once, the rest a second later (the default).
  assertEquals(DEFAULT_WRITE_INTERVAL_MS, 1000);
  assert(writes.length <= 2, `${writes.length} writes`);
  for (let i = 1; i < writes.length; i++) {
    const gap = writes[i]!.at - writes[i - 1]!.at;
    assert(gap >= DEFAULT_WRITE_INTERVAL_MS - 5, `writes ${i - 1} and ${i} were ${gap} ms apart`);
  }
});

Deno.test("streamFrames with writeIntervalMs 0 writes each frame as it comes", async () => {
  const { stats, writes } = await streamForty(0);
  assertEquals(stats.accepted, 40);
  assertEquals(writes.flatMap((write) => write.frames), [...Array(40).keys()]);
  assert(writes.length >= 20, `only ${writes.length} writes`);
});
