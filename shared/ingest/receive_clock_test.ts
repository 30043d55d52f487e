import { assertEquals } from "@std/assert";
import { createReceiveClock } from "./receive_clock.ts";

const MS = Date.parse("2026-11-26T12:00:00.000Z");

/** A clock whose wall time the test sets. */
function manualClock(start: number) {
  let now = start;
  return {
    clock: createReceiveClock(() => now),
    set: (ms: number) => {
      now = ms;
    },
  };
}

Deno.test("ReceiveClock.take starts at the wall clock's millisecond in microseconds", () => {
  const { clock } = manualClock(MS);
  assertEquals(clock.take(3), [
    "2026-11-26T12:00:00.000000Z",
    "2026-11-26T12:00:00.000001Z",
    "2026-11-26T12:00:00.000002Z",
  ]);
});

Deno.test("ReceiveClock.take never overlaps an earlier take within the same millisecond", () => {
  const { clock } = manualClock(MS);
  assertEquals(clock.take(2), ["2026-11-26T12:00:00.000000Z", "2026-11-26T12:00:00.000001Z"]);
  assertEquals(clock.take(1), ["2026-11-26T12:00:00.000002Z"]);
  assertEquals(clock.take(2), ["2026-11-26T12:00:00.000003Z", "2026-11-26T12:00:00.000004Z"]);
});

Deno.test("ReceiveClock.take returns nothing and reserves nothing when count is 0", () => {
  const { clock } = manualClock(MS);
  assertEquals(clock.take(0), []);
  assertEquals(clock.take(1), ["2026-11-26T12:00:00.000000Z"]);
  assertEquals(clock.take(0), []);
  assertEquals(clock.take(1), ["2026-11-26T12:00:00.000001Z"]);
});

Deno.test("ReceiveClock.take follows the wall clock forward once it passes the reserved run", () => {
  const { clock, set } = manualClock(MS);
  clock.take(5);
  set(MS + 1);
  assertEquals(clock.take(1), ["2026-11-26T12:00:00.001000Z"]);
  set(MS + 2_500);
  assertEquals(clock.take(2), ["2026-11-26T12:00:02.500000Z", "2026-11-26T12:00:02.500001Z"]);
});

Deno.test("ReceiveClock.take continues the reserved run when it is ahead of the wall clock", () => {
  const { clock, set } = manualClock(MS);
  clock.take(1_500);
  set(MS + 1);
  assertEquals(clock.take(1), ["2026-11-26T12:00:00.001500Z"]);
});

Deno.test("ReceiveClock.take keeps increasing when the wall clock goes back", () => {
  const { clock, set } = manualClock(MS);
  clock.take(2);
  set(MS - 60_000);
  assertEquals(clock.take(2), ["2026-11-26T12:00:00.000002Z", "2026-11-26T12:00:00.000003Z"]);
});

Deno.test("ReceiveClock.take hands out strictly increasing times over many takes", () => {
  const { clock, set } = manualClock(MS);
  const all: string[] = [];
  for (let i = 0; i < 200; i++) {
    if (i % 7 === 0) set(MS + Math.floor(i / 7));
    all.push(...clock.take(i % 4));
  }
  const sorted = [...all].sort();
  assertEquals(all, sorted);
  assertEquals(new Set(all).size, all.length);
});
