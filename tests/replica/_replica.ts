/**
 * What the read replica's tests share: SQL on the standby, pausing and resuming its replay, and
 * a steady stream of operator reads that records when each was answered, with what status and
 * from where (`X-Read-Source`). They run on a stack started with STACK_REPLICA=1.
 */
import { PORTS } from "../../scripts/stack/layout.ts";
import { psqlReplica } from "../../scripts/stack/replica.ts";
import { waitFor } from "../../scripts/stack/processes.ts";
import { callFunction, type TestDevice } from "../integration/_helpers.ts";

export { psqlReplica };
export const REPLICA_PORT = PORTS.replicaPostgres;

/** Pauses the standby's replay and returns the commit time (ms) of the last transaction it replayed. */
export async function pauseReplay(): Promise<number> {
  await psqlReplica("select pg_wal_replay_pause()");
  await waitFor(
    async () => (await psqlReplica("select pg_get_wal_replay_pause_state()")) === "paused",
    10_000,
    "the replay to pause",
  );
  return Number(
    await psqlReplica("select extract(epoch from pg_last_xact_replay_timestamp()) * 1000"),
  );
}

export async function resumeReplay(): Promise<void> {
  await psqlReplica("select pg_wal_replay_resume()");
}

/** Waits until the standby has replayed everything the primary had written when called. */
export async function waitForReplay(primaryLsn: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => (await psqlReplica(`select pg_last_wal_replay_lsn() >= '${primaryLsn}'`)) === "t",
    timeoutMs,
    "the replica to replay",
  );
}

export interface Answer {
  at: number;
  route: "page" | "rollups";
  status: number;
  source: string | null;
}

/**
 * Reads as the device's owner every `everyMs` until stopped: a page and the rollups in turn,
 * each with a `to` no request used before, so no answer comes from the cache.
 */
export function readContinuously(device: TestDevice, everyMs = 100) {
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const to = new Date(at + 86_400_000 + n++).toISOString();
      const route = n % 2 === 0 ? "page" as const : "rollups" as const;
      try {
        const response = await callFunction(
          route === "page" ? "telemetry-query" : "telemetry-analytics",
          {
            headers: { authorization: `Bearer ${device.owner.token}` },
            query: { device_id: device.id, to },
          },
        );
        await response.body?.cancel();
        answers.push({
          at,
          route,
          status: response.status,
          source: response.headers.get("x-read-source"),
        });
      } catch {
        answers.push({ at, route, status: 0, source: null });
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    answers,
    /** Waits for the first answer after `since` read from `source`. */
    async first(source: string, since: number, timeoutMs: number): Promise<Answer> {
      let found: Answer | undefined;
      await waitFor(
        () => {
          found = answers.find((answer) => answer.at >= since && answer.source === source);
          return found !== undefined;
        },
        timeoutMs,
        `a read from the ${source}`,
      );
      return found!;
    },
    async stop(): Promise<Answer[]> {
      running = false;
      await loop;
      return answers;
    },
  };
}

/** The health answer's status and replica section. */
export async function health(): Promise<{ status: string; replica: Record<string, unknown> }> {
  const response = await callFunction("health");
  const body = await response.json();
  return { status: body.status, replica: body.replica };
}
