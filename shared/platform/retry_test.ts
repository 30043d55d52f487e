import { assertEquals, assertRejects } from "@std/assert";
import { DbError } from "./db.ts";
import { HttpError } from "./http.ts";
import { withRetry } from "./retry.ts";

const transient = () => new DbError("connection refused", "08006", true, 0);
const permanent = () => new DbError("duplicate key", "23505", false, 409);

/** An operation that fails with each given error in turn, then returns "done". */
function failing(...errors: unknown[]) {
  const calls = { count: 0 };
  const operation = () => {
    const error = errors[calls.count++];
    return error === undefined ? Promise.resolve("done") : Promise.reject(error);
  };
  return { calls, operation };
}

function recordingSleep() {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms: number) => {
      delays.push(ms);
      return Promise.resolve();
    },
  };
}

/** Each delay must fall in its jittered window: base * 2^attempt times [0.5, 1]. */
function assertBackoff(delays: number[], base: number) {
  delays.forEach((delay, attempt) => {
    const full = base * 2 ** attempt;
    assertEquals(delay >= full / 2 && delay <= full, true, `delay ${attempt} was ${delay}`);
  });
  for (let i = 1; i < delays.length; i++) {
    assertEquals((delays[i] ?? 0) >= (delays[i - 1] ?? 0), true, `delays ${delays}`);
  }
}

Deno.test("withRetry returns at once without sleeping when the operation succeeds", async () => {
  const { calls, operation } = failing();
  const { delays, sleep } = recordingSleep();
  assertEquals(await withRetry(operation, { maxRetries: 3, sleep }), "done");
  assertEquals({ calls: calls.count, delays }, { calls: 1, delays: [] });
});

Deno.test("withRetry retries transient DbErrors with growing delays until one succeeds", async () => {
  const { calls, operation } = failing(transient(), transient());
  const { delays, sleep } = recordingSleep();
  assertEquals(await withRetry(operation, { maxRetries: 3, baseDelayMs: 100, sleep }), "done");
  assertEquals(calls.count, 3);
  assertEquals(delays.length, 2);
  assertBackoff(delays, 100);
});

Deno.test("withRetry throws 503 with Retry-After when every retry fails", async () => {
  const { calls, operation } = failing(transient(), transient(), transient(), transient());
  const { delays, sleep } = recordingSleep();
  const error = await assertRejects(
    () => withRetry(operation, { maxRetries: 3, baseDelayMs: 40, sleep }),
    HttpError,
  );
  assertEquals(
    {
      status: error.status,
      code: error.code,
      message: error.message,
      details: error.details,
      headers: error.headers,
    },
    {
      status: 503,
      code: "database_unavailable",
      message: "The database did not answer after 4 attempts; send again later",
      details: undefined,
      headers: { "retry-after": "5" },
    },
  );
  assertEquals(calls.count, 4);
  assertEquals(delays.length, 3);
  assertBackoff(delays, 40);
});

Deno.test("withRetry tries once and throws 503 when maxRetries is 0", async () => {
  const { calls, operation } = failing(transient());
  const { delays, sleep } = recordingSleep();
  await assertRejects(
    () => withRetry(operation, { maxRetries: 0, sleep }),
    HttpError,
    "The database did not answer after 1 attempts; send again later",
  );
  assertEquals({ calls: calls.count, delays }, { calls: 1, delays: [] });
});

Deno.test("withRetry waits 100 ms times 2^attempt, jittered, by default", async () => {
  const { operation } = failing(transient(), transient(), transient());
  const { delays, sleep } = recordingSleep();
  await withRetry(operation, { maxRetries: 5, sleep });
  assertEquals(delays.length, 3);
  assertBackoff(delays, 100);
});

Deno.test("withRetry rethrows at once when the error is not transient", async (t) => {
  const cases: [string, unknown][] = [
    ["a non-transient DbError", permanent()],
    ["an HttpError", new HttpError(401, "invalid_device_key", "no")],
    ["a TypeError", new TypeError("boom")],
    ["a thrown string", "boom"],
  ];
  for (const [name, thrown] of cases) {
    await t.step(name, async () => {
      const { calls, operation } = failing(thrown, thrown);
      const { delays, sleep } = recordingSleep();
      let caught: unknown;
      try {
        await withRetry(operation, { maxRetries: 3, sleep });
      } catch (error) {
        caught = error;
      }
      assertEquals(caught === thrown, true);
      assertEquals({ calls: calls.count, delays }, { calls: 1, delays: [] });
    });
  }
});

Deno.test("withRetry rethrows a non-transient error that follows transient ones", async () => {
  const last = permanent();
  const { calls, operation } = failing(transient(), last);
  const { delays, sleep } = recordingSleep();
  await assertRejects(
    () => withRetry(operation, { maxRetries: 3, sleep }),
    DbError,
    "duplicate key",
  );
  assertEquals({ calls: calls.count, sleeps: delays.length }, { calls: 2, sleeps: 1 });
});
