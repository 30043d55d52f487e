/** Test helpers of the device client. */
import type { Clock } from "./send.ts";

/** A clock whose waits return at once and are recorded. */
export function fakeClock(): Clock & { waits: number[] } {
  let now = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: (ms) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}
