/**
 * The replica's faults, both ways, while an operator reads ten times a second: the replica lags
 * past REPLICA_MAX_LAG_SECONDS (5 s; its replay paused while a device keeps writing), or stops
 * (its Postgres, then its PostgREST). Reads move to the primary within 1 s, no read fails,
 * health says degraded and why; once the replica is back, reads return to it.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { killComponent, startStack } from "../_stack.ts";
import * as replica from "../../scripts/stack/replica.ts";
import { waitFor } from "../../scripts/stack/processes.ts";
import { createDevice, createUser, sendTelemetry } from "../integration/_helpers.ts";
import { type Answer, health, pauseReplay, readContinuously, resumeReplay } from "./_replica.ts";

const MAX_LAG_MS = 5_000;

/** Health as it is once it says degraded (each isolate checks the replica every 250 ms). */
async function degradedHealth(): ReturnType<typeof health> {
  let last = await health();
  await waitFor(async () => (last = await health()).status === "degraded", 1_000, "degraded");
  return last;
}

function failures(answers: Answer[]): Answer[] {
  return answers.filter((answer) => answer.status !== 200);
}

/** A device that writes a frame every 200 ms until stopped, so WAL keeps reaching the standby. */
function writeContinuously(device: { key: string }) {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const response = await sendTelemetry(device, `roll:${n++},alt:100`);
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

Deno.test("reads move to the primary within 1 s of the replica lagging past 5 s, and come back", async () => {
  const device = await createDevice(await createUser());
  const stopWriting = writeContinuously(device);
  const reads = readContinuously(device);
  try {
    await reads.first("replica", Date.now(), 5_000);
    const lastReplayed = await pauseReplay();
    // The lag passes 5 s at lastReplayed + 5 s; the reads must be on the primary 1 s later.
    const moved = await reads.first("primary", lastReplayed, 15_000);
    assert(
      moved.at <= lastReplayed + MAX_LAG_MS + 1_000,
      `reads moved ${moved.at - lastReplayed - MAX_LAG_MS} ms after the lag passed 5 s`,
    );
    assert(moved.at >= lastReplayed + MAX_LAG_MS - 500, "reads moved before the lag passed 5 s");
    const degraded = await degradedHealth();
    assertEquals([degraded.status, degraded.replica.reads], ["degraded", "primary"]);
    assertMatch(
      String(degraded.replica.reason),
      /^the replica lags \d+\.\d s behind the primary, over the 5 s allowed \(replay paused\)$/,
    );

    const resumed = Date.now();
    await resumeReplay();
    const back = await reads.first("replica", resumed, 5_000);
    assert(back.at - resumed <= 1_000, `reads came back ${back.at - resumed} ms after the resume`);
    await waitFor(async () => (await health()).status === "healthy", 2_000, "health to be healthy");
  } finally {
    await resumeReplay();
    await stopWriting();
  }
  const answers = await reads.stop();
  assertEquals(failures(answers), []);
  assert(answers.length > 20, `only ${answers.length} reads`);
});

Deno.test("reads move to the primary at once when the replica stops, and come back when it starts", async () => {
  const device = await createDevice(await createUser());
  const reads = readContinuously(device);
  try {
    await reads.first("replica", Date.now(), 5_000);

    // The standby's Postgres stops (fast shutdown: its sessions end mid-query).
    const stopped = Date.now();
    await replica.stop();
    const moved = await reads.first("primary", stopped, 5_000);
    assert(moved.at - stopped <= 1_000, `reads moved ${moved.at - stopped} ms after the stop`);
    const down = await degradedHealth();
    assertEquals([down.status, down.replica.reads], ["degraded", "primary"]);
    // Either the check or a read saw it go.
    assertMatch(
      String(down.replica.reason),
      /^(the replica is unreachable|a read on the replica failed): /,
    );
    await startStack();
    // PostgREST reconnects to the standby with a backoff of its own (up to 32 s).
    const restarted = Date.now();
    await reads.first("replica", restarted, 40_000);
    await waitFor(async () => (await health()).status === "healthy", 2_000, "health to be healthy");

    // The replica's endpoint loses its PostgREST (a crash).
    const killed = Date.now();
    await killComponent("replica-postgrest");
    const movedAgain = await reads.first("primary", killed, 5_000);
    assert(
      movedAgain.at - killed <= 1_000,
      `reads moved ${movedAgain.at - killed} ms after the kill`,
    );
    assertMatch(
      String((await degradedHealth()).replica.reason),
      /^the replica is unreachable: Upstream [\d.:]+ is not answering$/,
    );
    await startStack();
    await reads.first("replica", Date.now(), 10_000);
  } finally {
    await startStack();
  }
  const answers = await reads.stop();
  assertEquals(failures(answers), []);
});
