/**
 * Accepted means durable, and a retry stores nothing twice, while the stack fails under load: a
 * fleet client sends 20,000 timestamped frames in batches, retrying on 503 and network errors with
 * the same Idempotency-Key, while PostgREST is killed (SIGKILL) and restarted, PostgreSQL is
 * restarted (fast shutdown) and a flush backend is terminated mid-flush. At the end every
 * acknowledged frame is stored exactly once. The counts are printed.
 */
import { assert, assertEquals } from "@std/assert";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sql,
  type TestDevice,
} from "../integration/_helpers.ts";
import { killComponent, startStack } from "../_stack.ts";
import { restartPostgres, terminateFlushBackends } from "./_faults.ts";

const DEVICES = 4;
const FRAMES_PER_DEVICE = 5_000;
const FRAMES_PER_BATCH = 40;
/** Pause between a worker's batches, so the run lasts long enough for every fault. */
const PACE_MS = 100;
const MAX_ATTEMPTS = 40;
const REQUEST_TIMEOUT_MS = 30_000;
const TOTAL = DEVICES * FRAMES_PER_DEVICE;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Counts {
  acknowledged: number;
  batches: number;
  retries503: number;
  retriesNetwork: number;
  /** Answers replayed from the first try's record: it was stored, but its answer was lost. */
  replayed: number;
  /** Acknowledged batches sent again on purpose, as after a lost answer. */
  repeated: number;
}

/** Frame i of a device: 10 Hz from `start`, altitude i (a checksum of what was stored). */
function batchBody(start: number, first: number): string {
  const lines: string[] = [];
  for (let i = first; i < first + FRAMES_PER_BATCH; i++) {
    lines.push(`alt:${i},roll:${(i % 90) - 45},ts:${new Date(start + i * 100).toISOString()}`);
  }
  return lines.join("\n");
}

/** Sends one batch until it is acknowledged; returns how many frames the answer accepted. */
async function sendUntilAcknowledged(
  device: TestDevice,
  body: string,
  key: string,
  counts: Counts,
): Promise<number> {
  for (let attempt = 1;; attempt++) {
    let status = 0;
    let text = "";
    let replayed = false;
    try {
      const response = await callFunction("telemetry-parse", {
        method: "POST",
        headers: {
          authorization: `Bearer ${device.key}`,
          "content-type": "text/plain",
          "idempotency-key": key,
        },
        body,
        // A device gives up on an answer that does not come and sends again.
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = response.status;
      replayed = response.headers.get("idempotent-replayed") === "true";
      text = await response.text();
    } catch {
      counts.retriesNetwork++;
    }
    if (status === 200) {
      const answer = JSON.parse(text);
      assertEquals([answer.accepted, answer.rejected], [FRAMES_PER_BATCH, 0], text);
      if (replayed) counts.replayed++;
      return answer.accepted;
    }
    // Any other answer is a bug: the device would drop the batch or never stop retrying.
    if (status !== 0 && status !== 503) throw new Error(`Batch ${key}: ${status} ${text}`);
    if (status === 503) counts.retries503++;
    if (attempt >= MAX_ATTEMPTS) throw new Error(`Batch ${key}: no 200 after ${attempt} tries`);
    await sleep(Math.min(100 * 2 ** attempt, 2_000));
  }
}

async function sendDevice(device: TestDevice, start: number, runId: string, counts: Counts) {
  for (let first = 0; first < FRAMES_PER_DEVICE; first += FRAMES_PER_BATCH) {
    const key = `faults-${runId}-${device.id}-${first}`;
    // Awaited first: `counts.acknowledged += await …` would add to a value read before the wait.
    const accepted = await sendUntilAcknowledged(device, batchBody(start, first), key, counts);
    counts.acknowledged += accepted;
    counts.batches++;
    // Every tenth batch again, as a device does whose answer was lost: a replay, stored nothing.
    if ((first / FRAMES_PER_BATCH) % 10 === 9) {
      await sendUntilAcknowledged(device, batchBody(start, first), key, counts);
      counts.repeated++;
    }
    await sleep(PACE_MS);
  }
}

/** Waits for the client's progress; gives up when the client has ended without getting there. */
async function until(condition: () => boolean, ended: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!condition()) {
    if (ended()) throw new Error(`The client ended before ${what}`);
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Flushes until every frame of the devices that the API shows is in telemetry.telemetry, as
 * pg_cron eventually would. Reads only the API's view and the final table, not staging.
 */
async function flushAll(deviceIds: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    await sql("select public.flush_telemetry()");
    const [flushed, visible] = (await sql(`
      select (select count(*) from telemetry.telemetry where device_id in (${deviceIds})),
             (select count(*) from public.telemetry_frames where device_id in (${deviceIds}))`))
      .split("|");
    if (flushed === visible) return;
    await sleep(200);
  }
  throw new Error("Staging did not drain");
}

Deno.test("telemetry-parse stores every acknowledged frame exactly once through PostgREST, Postgres and flush faults", async () => {
  const owner = await createUser();
  const devices: TestDevice[] = [];
  for (let d = 0; d < DEVICES; d++) devices.push(await createDevice(owner, `fault drone ${d}`));
  const ids = devices.map((device) => `'${device.id}'`).join(",");
  const runId = crypto.randomUUID().slice(0, 8);
  // An hour ago, whole seconds: well inside the accepted timestamp window.
  const start = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const counts: Counts = {
    acknowledged: 0,
    batches: 0,
    retries503: 0,
    retriesNetwork: 0,
    replayed: 0,
    repeated: 0,
  };
  const faults: string[] = [];
  // Frames the flush drops as already stored: a retry staged twice would show here, while the
  // table's unique key keeps the stored count right whatever happens.
  const droppedDuplicates = async () =>
    Number(await sql("select coalesce(sum(duplicates_dropped), 0) from telemetry.flush_runs"));
  await flushAll(ids);
  const droppedBefore = await droppedDuplicates();

  let clientEnded = false;
  const client = Promise.all(devices.map((device) => sendDevice(device, start, runId, counts)))
    .finally(() => clientEnded = true);
  const progress = (frames: number) =>
    until(() => counts.acknowledged >= frames, () => clientEnded, `${frames} acknowledged frames`);
  const injector = (async () => {
    await progress(3_000);
    faults.push(`PostgREST SIGKILL at ${counts.acknowledged} acknowledged`);
    await killComponent("postgrest", "SIGKILL");
    await sleep(1_500);
    await startStack();

    await progress(8_000);
    faults.push(`PostgreSQL fast restart at ${counts.acknowledged} acknowledged`);
    await restartPostgres(1_000);

    await progress(13_000);
    const at = counts.acknowledged;
    const terminated = await terminateFlushBackends();
    faults.push(`flush backend(s) ${terminated.join(", ")} terminated at ${at} acknowledged`);
  })();
  try {
    await Promise.all([client, injector]);
  } finally {
    // Whatever failed, the suites that follow get a whole stack.
    await Promise.allSettled([client, injector]);
    await startStack();
  }

  await flushAll(ids);
  const [stored, distinct, altitudes, staged] = (await sql(`
    select count(*), count(distinct (device_id, recorded_at)), coalesce(sum(altitude_m::bigint), 0),
           (select count(*) from public.telemetry_frames where device_id in (${ids}))
    from telemetry.telemetry
    where device_id in (${ids})`)).split("|").map(Number);
  const duplicates = (stored ?? 0) - (distinct ?? 0);
  const stagedTwice = (await droppedDuplicates()) - droppedBefore;
  const retries = counts.retries503 + counts.retriesNetwork;
  // deno-lint-ignore no-console -- the suite's figures, asked for in its output
  console.log(
    `\n20k fault run: sent ${TOTAL} frames in ${TOTAL / FRAMES_PER_BATCH} batches; ` +
      `acknowledged ${counts.acknowledged}; stored ${stored}; duplicates ${duplicates}; ` +
      `staged twice ${stagedTwice}; ` +
      `retries ${retries} (503: ${counts.retries503}, network: ${counts.retriesNetwork}); ` +
      `batches sent again ${counts.repeated}, replayed answers ${counts.replayed}; ` +
      `faults injected ${faults.length}: ${faults.join("; ")}\n`,
  );

  assertEquals(counts.batches, TOTAL / FRAMES_PER_BATCH);
  assertEquals(counts.acknowledged, TOTAL);
  assertEquals(stored, counts.acknowledged, "frames stored == frames acknowledged");
  assertEquals(duplicates, 0);
  assertEquals(stagedTwice, 0, "no retry was staged twice (the idempotency key held)");
  assert(
    counts.repeated > 0 && counts.replayed >= counts.repeated,
    "every repeated batch was a replay",
  );
  assertEquals(staged, stored, "after the flush, the API's view shows exactly what was flushed");
  // Each device's altitudes are 0..4999 once each.
  assertEquals(altitudes, DEVICES * (FRAMES_PER_DEVICE * (FRAMES_PER_DEVICE - 1)) / 2);
  assertEquals(faults.length, 3);
  assert(retries > 0, "the faults never reached the client: they proved nothing");

  // The stack is whole again for the suites that follow.
  const health = await jsonOf(await callFunction("health"));
  assertEquals([health.status, health.body.supabase_connected], [200, true]);
});
