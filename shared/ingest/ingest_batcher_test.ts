import { assertEquals, assertRejects } from "@std/assert";
import { createBatcher, type JobOutcome } from "./ingest_batcher.ts";

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

Deno.test("createBatcher sends a lone job at once", async () => {
  const groups: number[][] = [];
  const batcher = createBatcher<number, number>(
    (jobs) => {
      groups.push(jobs);
      return Promise.resolve(jobs.map((job) => ({ ok: true, value: job * 10 })));
    },
    () => 1,
    100,
  );
  assertEquals(await batcher.submit(1), 10);
  assertEquals(groups, [[1]]);
});

Deno.test("createBatcher groups the jobs that arrive while a call is in flight", async () => {
  const groups: number[][] = [];
  const gate = deferred<void>();
  const batcher = createBatcher<number, number>(
    async (jobs) => {
      groups.push(jobs);
      if (groups.length === 1) await gate.promise;
      return jobs.map((job) => ({ ok: true, value: job }));
    },
    () => 1,
    100,
  );
  const first = batcher.submit(1);
  const rest = [2, 3, 4].map((job) => batcher.submit(job));
  gate.resolve();
  assertEquals(await Promise.all([first, ...rest]), [1, 2, 3, 4]);
  assertEquals(groups, [[1], [2, 3, 4]]);
});

Deno.test("createBatcher closes a group before it passes the weight limit", async () => {
  const groups: number[][] = [];
  const gate = deferred<void>();
  const batcher = createBatcher<number, number>(
    async (jobs) => {
      groups.push(jobs);
      if (groups.length === 1) await gate.promise;
      return jobs.map((job) => ({ ok: true, value: job }));
    },
    (job) => job,
    10,
  );
  const all = [1, 3, 4, 5, 20, 2].map((job) => batcher.submit(job));
  gate.resolve();
  await Promise.all(all);
  // 3 + 4 fit in 10, 5 would not; 20 is over the limit alone and still goes.
  assertEquals(groups, [[1], [3, 4], [5], [20], [2]]);
});

Deno.test("createBatcher fails only the job whose outcome is an error", async () => {
  const batcher = createBatcher<number, number>(
    (jobs) =>
      Promise.resolve(
        jobs.map((job): JobOutcome<number> =>
          job === 2 ? { ok: false, error: new RangeError("bad job 2") } : { ok: true, value: job }
        ),
      ),
    () => 1,
    100,
  );
  const results = await Promise.allSettled([1, 2, 3].map((job) => batcher.submit(job)));
  assertEquals(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
});

Deno.test("createBatcher fails every job of a group when the call throws, then goes on", async () => {
  let calls = 0;
  const batcher = createBatcher<number, number>(
    (jobs) => {
      calls++;
      if (calls === 1) return Promise.reject(new Error("connection reset"));
      return Promise.resolve(jobs.map((job) => ({ ok: true, value: job })));
    },
    () => 1,
    100,
  );
  await assertRejects(() => batcher.submit(1), Error, "connection reset");
  assertEquals(await batcher.submit(2), 2);
});
