import { assertEquals } from "@std/assert";
import { backoffMs, type Clock, parseRetryAfter, sendBatch, toNdjson } from "./send.ts";
import { fakeClock } from "./_test_helpers.ts";

/** A transport that answers from a script and records each request. */
function scripted(answers: Array<Response | Error>) {
  const requests: Array<{ key: string | null; body: string }> = [];
  const transport = async (request: Request) => {
    requests.push({ key: request.headers.get("idempotency-key"), body: await request.text() });
    const answer = answers.shift();
    if (answer === undefined) throw new Error("No answer left in the script");
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { transport, requests };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers });

const options = (transport: (r: Request) => Promise<Response>, clock: Clock) => ({
  functionsUrl: "http://api.test/functions/v1",
  deviceKey: "key",
  transport,
  clock,
  random: () => 1,
});

Deno.test("toNdjson writes one object per line", () => {
  assertEquals(
    toNdjson([{ roll: 1, ts: "t1" }, { armed: true }]),
    '{"roll":1,"ts":"t1"}\n{"armed":true}\n',
  );
});

Deno.test("backoffMs doubles up to the cap and never undercuts Retry-After", () => {
  const opts = { baseMs: 100, maxMs: 1000, random: () => 1 };
  assertEquals([1, 2, 3, 4, 5].map((n) => backoffMs(n, null, opts)), [100, 200, 400, 800, 1000]);
  assertEquals(backoffMs(1, 7, opts), 7000);
  assertEquals(backoffMs(1, null, { ...opts, random: () => 0 }), 50);
});

Deno.test("parseRetryAfter reads delta seconds only", () => {
  assertEquals(parseRetryAfter("12"), 12);
  assertEquals(parseRetryAfter(null), null);
  assertEquals(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), null);
});

Deno.test("sendBatch retries 429, 503 and network errors with the same Idempotency-Key", async () => {
  const clock = fakeClock();
  const { transport, requests } = scripted([
    json({ success: false, error: { message: "Slow down" } }, 429, { "retry-after": "3" }),
    new TypeError("connection refused"),
    json({ success: false, error: { message: "down" } }, 503),
    json({ success: true, accepted: 2, rejected: 0, errors: [] }, 200, {
      "idempotent-replayed": "true",
    }),
  ]);
  const retries: string[] = [];
  const outcome = await sendBatch([{ roll: 1 }, { roll: 2 }], "batch-1", {
    ...options(transport, clock),
    baseBackoffMs: 100,
    onRetry: (_n, reason) => retries.push(reason),
  });
  assertEquals(outcome, {
    kind: "stored",
    accepted: 2,
    rejected: 0,
    errors: [],
    replayed: true,
    attempts: 4,
  });
  assertEquals(requests.map((r) => r.key), ["batch-1", "batch-1", "batch-1", "batch-1"]);
  assertEquals(new Set(requests.map((r) => r.body)).size, 1);
  assertEquals(clock.waits, [3000, 200, 400]);
  assertEquals(retries.length, 3);
});

Deno.test("sendBatch does not retry a 400 or a 422 and reports the API's message", async () => {
  const clock = fakeClock();
  const bad = scripted([json({ success: false, error: { message: "Bad key" } }, 401)]);
  assertEquals(await sendBatch([{ roll: 1 }], "k", options(bad.transport, clock)), {
    kind: "failed",
    status: 401,
    message: "Bad key",
    attempts: 1,
  });
  const invalid = scripted([
    json({
      success: false,
      error: { message: "All 2 lines are invalid", details: { rejected: 2, errors: [] } },
    }, 422),
  ]);
  const outcome = await sendBatch(
    [{ roll: 999 }, { roll: 998 }],
    "k",
    options(invalid.transport, clock),
  );
  assertEquals(outcome.kind, "rejected");
  assertEquals(outcome.kind === "rejected" && outcome.rejected, 2);
  assertEquals(clock.waits, []);
});

Deno.test("sendBatch gives up after maxAttempts", async () => {
  const clock = fakeClock();
  const { transport, requests } = scripted([new TypeError("down"), new TypeError("down")]);
  const outcome = await sendBatch([{ roll: 1 }], "k", {
    ...options(transport, clock),
    maxAttempts: 2,
  });
  assertEquals(outcome.kind, "failed");
  assertEquals(requests.length, 2);
});
