import { assert, assertEquals, assertThrows } from "@std/assert";
import { DeviceClient } from "./client.ts";
import { fakeClock } from "./_test_helpers.ts";
import { Spool } from "./spool.ts";

function recorder(failFirst: number) {
  const batches: Array<{ key: string | null; lines: number[] }> = [];
  let calls = 0;
  const transport = async (request: Request) => {
    calls++;
    const lines = (await request.text()).trim().split("\n").map((l) => JSON.parse(l).n);
    if (calls <= failFirst) throw new TypeError("API down");
    batches.push({ key: request.headers.get("idempotency-key"), lines });
    return new Response(JSON.stringify({ accepted: lines.length, rejected: 0, errors: [] }));
  };
  return { transport, batches };
}

Deno.test("DeviceClient sends every frame in order in batches, each under its own key", async () => {
  const { transport, batches } = recorder(3);
  let key = 0;
  const client = new DeviceClient({
    functionsUrl: "http://api.test/functions/v1",
    deviceKey: "key",
    transport,
    clock: fakeClock(),
    maxBatchFrames: 4,
    newKey: () => `k${++key}`,
  });
  for (let n = 0; n < 10; n++) client.push({ n });
  await client.close();
  assertEquals(batches.map((b) => b.lines).flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(batches.map((b) => b.key), ["k1", "k2", "k3"]);
  assertEquals(client.stats.accepted, 10);
  assertEquals(client.stats.requests, 6);
  assertEquals(client.pending, 0);
  assertThrows(() => client.push({ n: 10 }), TypeError, "closed");
});

Deno.test("DeviceClient keeps the newest frames when its buffer is full", async () => {
  const { transport, batches } = recorder(0);
  const client = new DeviceClient({
    functionsUrl: "http://api.test/functions/v1",
    deviceKey: "key",
    transport,
    clock: fakeClock(),
    maxBufferedFrames: 3,
  });
  for (let n = 0; n < 5; n++) client.push({ n });
  assertEquals(client.stats.dropped, 2);
  await client.close();
  assertEquals(batches.map((b) => b.lines).flat(), [2, 3, 4]);
});

Deno.test("DeviceClient gives up what is unsent when close times out", async () => {
  const client = new DeviceClient({
    functionsUrl: "http://api.test/functions/v1",
    deviceKey: "key",
    transport: () => Promise.reject(new TypeError("API down")),
    baseBackoffMs: 5,
    maxBackoffMs: 5,
  });
  for (let n = 0; n < 3; n++) client.push({ n });
  await client.close(50);
  assertEquals(client.stats.failed, 3);
  assertEquals(client.stats.accepted, 0);
});

Deno.test("DeviceClient with a spool sends, after a crash, every frame once and the unanswered batch under its key", async () => {
  const dir = Deno.makeTempDirSync();
  // First run: the API takes the first batch, then goes down; the process is then killed (the
  // client is never closed, and its batch in flight never answered).
  let up = true;
  const seen: Array<{ key: string | null; lines: number[] }> = [];
  const transport = async (request: Request) => {
    const lines = (await request.text()).trim().split("\n").map((l) => JSON.parse(l).n);
    seen.push({ key: request.headers.get("idempotency-key"), lines });
    if (!up) throw new TypeError("API down");
    return new Response(JSON.stringify({ accepted: lines.length, rejected: 0, errors: [] }));
  };
  let key = 0;
  const options = {
    functionsUrl: "http://api.test/functions/v1",
    deviceKey: "key",
    transport,
    baseBackoffMs: 1,
    maxBackoffMs: 2,
    lingerMs: 0,
    maxBatchFrames: 4,
    newKey: () => `k${++key}`,
  };
  const first = new DeviceClient({ ...options, spool: new Spool(dir) });
  for (let n = 0; n < 4; n++) first.push({ n });
  first.start();
  while (first.stats.accepted < 4) await new Promise((resolve) => setTimeout(resolve, 1));
  up = false;
  for (let n = 4; n < 10; n++) first.push({ n });
  await first.close(20); // what a kill leaves: the spool as it is on disk
  assertEquals(first.stats.produced, 10);

  up = true;
  const second = new DeviceClient({ ...options, spool: new Spool(dir) });
  assertEquals(second.pending, 6);
  await second.close();
  const stored = seen.filter((_, i) => i === 0 || seen[i]!.key !== seen[i - 1]!.key);
  assertEquals(seen[0], { key: "k1", lines: [0, 1, 2, 3] });
  const retried = seen.filter((batch) => batch.key === "k2");
  assert(retried.length >= 2, "the unanswered batch went again under its first key");
  assertEquals(retried.every((batch) => batch.lines.join() === "4,5,6,7"), true);
  assertEquals([...new Set(seen.flatMap((batch) => batch.lines))], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(stored.length >= 3, true);
  assertEquals(second.stats.accepted, 6);
  assertEquals(new Spool(dir).recovered, 0);
});
