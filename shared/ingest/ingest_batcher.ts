/**
 * Group commit inside one isolate. Requests that arrive while a database call is in flight wait
 * and then go together in the next call, so N concurrent devices cost one round trip and one
 * commit instead of N. A lone request is sent at once: grouping adds no delay when idle, only
 * under load, where it is what keeps up. Each request is answered only after the call that
 * stored it has returned, i.e. after its commit.
 */

/** What a group's sender gets back for one job: its result or its own error. */
export type JobOutcome<R> = { ok: true; value: R } | { ok: false; error: Error };

export interface Batcher<J, R> {
  /** Queues a job and resolves when the call carrying it returns; rejects with its error. */
  submit(job: J): Promise<R>;
}

/**
 * Creates a batcher.
 * @param send stores a group and returns one outcome per job, in order; if it throws, every job
 *   of the group fails with that error (the caller decides whether to retry)
 * @param weight how much of a group a job takes (its frames); a group is closed before it would
 *   pass `maxWeight`, except that a single heavier job still goes alone
 * @param maxInFlight how many groups may be sent at once: more than one lets the database work
 *   on a group while the previous one is still on its way back
 */
export function createBatcher<J, R>(
  send: (jobs: J[]) => Promise<JobOutcome<R>[]>,
  weight: (job: J) => number,
  maxWeight: number,
  maxInFlight = 1,
): Batcher<J, R> {
  type Pending = { job: J; resolve: (value: R) => void; reject: (error: Error) => void };
  const queue: Pending[] = [];
  let inFlight = 0;

  function takeGroup(): Pending[] {
    const group: Pending[] = [];
    let total = 0;
    while (queue.length > 0) {
      const next = queue[0] as Pending;
      const w = weight(next.job);
      if (group.length > 0 && total + w > maxWeight) break;
      group.push(next);
      queue.shift();
      total += w;
    }
    return group;
  }

  async function sendGroups(): Promise<void> {
    inFlight++;
    while (queue.length > 0) {
      const group = takeGroup();
      try {
        const outcomes = await send(group.map((pending) => pending.job));
        group.forEach((pending, i) => {
          const outcome = outcomes[i];
          if (!outcome) pending.reject(new Error("The database answered fewer outcomes than jobs"));
          else if (outcome.ok) pending.resolve(outcome.value);
          else pending.reject(outcome.error);
        });
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const pending of group) pending.reject(failure);
      }
    }
    inFlight--;
  }

  return {
    submit(job) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ job, resolve, reject });
        if (inFlight < maxInFlight) void sendGroups();
      });
    },
  };
}
