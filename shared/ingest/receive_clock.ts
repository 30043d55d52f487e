/**
 * Receive times for frames that carry no timestamp of their own. Each request takes a run of
 * microseconds no other request of this isolate gets, so frames without a timestamp never share
 * a `(device_id, recorded_at)` key and are never collapsed by dedup, even when two requests of
 * one device arrive in the same millisecond.
 */
import { formatMicros } from "./timestamp.ts";

export interface ReceiveClock {
  /** Reserves `count` consecutive microseconds and returns their ISO times, in order. */
  take(count: number): string[];
}

/** A clock that never hands out a microsecond twice, starting from the wall clock. */
export function createReceiveClock(nowMs: () => number = Date.now): ReceiveClock {
  let next = 0n;
  return {
    take(count) {
      const now = BigInt(nowMs()) * 1000n;
      const base = now > next ? now : next;
      next = base + BigInt(count);
      return Array.from({ length: count }, (_, i) => formatMicros(base + BigInt(i)));
    },
  };
}
