import { assertEquals, assertRejects } from "@std/assert";
import { DbError } from "./db.ts";
import { HttpError } from "./http.ts";
import {
  createReadRouter,
  isReplicaFailure,
  judgeReplica,
  readPreferringReplica,
  type ReplicaStatus,
} from "./replica.ts";

const fit: ReplicaStatus = {
  "in_recovery": true,
  streaming: true,
  "replay_paused": false,
  "lag_seconds": 0.2,
};

Deno.test("judgeReplica allows a streaming standby within the lag and names every reason not to", () => {
  assertEquals(judgeReplica(fit, 5), { usable: true, reason: null });
  assertEquals(judgeReplica({ ...fit, lag_seconds: 5 }, 5).usable, true);
  assertEquals(judgeReplica({ ...fit, lag_seconds: 6.25, replay_paused: true }, 5), {
    usable: false,
    reason: "the replica lags 6.3 s behind the primary, over the 5 s allowed (replay paused)",
  });
  assertEquals(judgeReplica({ ...fit, streaming: false }, 5), {
    usable: false,
    reason: "the replica is not streaming from the primary",
  });
  assertEquals(judgeReplica({ ...fit, in_recovery: false }, 5), {
    usable: false,
    reason: "the replica is not a standby (promoted?)",
  });
});

Deno.test("isReplicaFailure is true for what the primary may answer instead", () => {
  assertEquals(isReplicaFailure(new DbError("down", "PGRST001", true, 503)), true);
  assertEquals(isReplicaFailure(new DbError("bad", "22P02", false, 400)), false);
  assertEquals(isReplicaFailure(new HttpError(503, "database_unavailable", "x")), true);
  assertEquals(isReplicaFailure(new HttpError(404, "device_not_found", "x")), false);
  assertEquals(isReplicaFailure(new TypeError("connection refused")), true);
});

/** A router over a scripted replica and a hand-moved clock. */
function scripted(answers: Array<ReplicaStatus | Error | "hang">) {
  let clock = 0;
  let checks = 0;
  const router = createReadRouter({
    check: (signal) => {
      const answer = answers[Math.min(checks++, answers.length - 1)]!;
      if (answer === "hang") {
        return new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason))
        );
      }
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    maxLagSeconds: 5,
    now: () => clock,
    checkIntervalMs: 250,
    checkTimeoutMs: 20,
  });
  return {
    router,
    advance: (ms: number) => (clock += ms),
    checks: () => checks,
  };
}

Deno.test("createReadRouter asks the replica at most once per interval, concurrent reads sharing a check", async () => {
  const { router, advance, checks } = scripted([fit]);
  assertEquals(await Promise.all([router.pick(), router.pick(), router.pick()]), [
    "replica",
    "replica",
    "replica",
  ]);
  assertEquals(checks(), 1);
  advance(249);
  await router.pick();
  assertEquals(checks(), 1);
  advance(1);
  await router.pick();
  assertEquals(checks(), 2);
});

Deno.test("createReadRouter moves reads to the primary when the replica lags and back when it catches up", async () => {
  const { router, advance } = scripted([fit, { ...fit, lag_seconds: 5.5 }, fit]);
  assertEquals(await router.pick(), "replica");
  advance(250);
  assertEquals(await router.pick(), "primary");
  assertEquals((await router.state()).lagSeconds, 5.5);
  advance(250);
  assertEquals(await router.pick(), "replica");
});

Deno.test("createReadRouter leaves aside a replica that does not answer in time or at all", async () => {
  const { router, advance } = scripted(["hang", new TypeError("Connection refused"), fit]);
  assertEquals(await router.pick(), "primary");
  assertEquals(
    (await router.state()).reason,
    "the replica is unreachable: did not answer within 20 ms",
  );
  advance(250);
  assertEquals(await router.pick(), "primary");
  assertEquals((await router.state()).reason, "the replica is unreachable: Connection refused");
  advance(250);
  assertEquals(await router.pick(), "replica");
});

Deno.test("readPreferringReplica runs a read the replica fails again on the primary", async () => {
  const { router, advance } = scripted([fit]);
  const ran: string[] = [];
  const result = await readPreferringReplica(router, (target) => {
    ran.push(target);
    if (target === "replica") throw new DbError("gone", "", true, 502);
    return Promise.resolve(42);
  });
  assertEquals(result, { value: 42, source: "primary" });
  assertEquals(ran, ["replica", "primary"]);
  // Until the next check the replica stays aside.
  assertEquals(await router.pick(), "primary");
  assertEquals((await router.state()).reason, "a read on the replica failed: gone");
  advance(250);
  assertEquals(await router.pick(), "replica");
});

Deno.test("readPreferringReplica passes on an answer the primary would give too", async () => {
  const { router } = scripted([fit]);
  const ran: string[] = [];
  await assertRejects(
    () =>
      readPreferringReplica(router, (target) => {
        ran.push(target);
        throw new HttpError(404, "device_not_found", "No device");
      }),
    HttpError,
    "No device",
  );
  assertEquals(ran, ["replica"]);
});

Deno.test("readPreferringReplica reads the primary when no replica is configured", async () => {
  assertEquals(
    await readPreferringReplica(null, (target) => Promise.resolve(target)),
    { value: "primary", source: "primary" },
  );
});
