import { assertEquals, assertThrows } from "@std/assert";
import { Resampler } from "./resample.ts";

Deno.test("Resampler makes a frame per tick from the latest value of every field", () => {
  const resampler = new Resampler(100n);
  const frames = [
    ...resampler.push(1_030n, { roll_degrees: 1 }),
    ...resampler.push(1_090n, { armed: true }),
    ...resampler.push(1_100n, { roll_degrees: 2 }),
    ...resampler.push(1_350n, { roll_degrees: 3, gps_latitude: 47 }),
    ...resampler.finish(1_400n),
  ];
  assertEquals(frames, [
    // Ticks fall on multiples of the period, the first at or after the first message.
    { micros: 1_100n, fields: { roll_degrees: 2, armed: true } },
    // Nothing new at 1200 and 1300: the latest values are held.
    { micros: 1_200n, fields: { roll_degrees: 2, armed: true } },
    { micros: 1_300n, fields: { roll_degrees: 2, armed: true } },
    { micros: 1_400n, fields: { roll_degrees: 3, armed: true, gps_latitude: 47 } },
  ]);
});

Deno.test("Resampler gives each frame its own copy of the values", () => {
  const resampler = new Resampler(10n);
  resampler.push(0n, { roll_degrees: 1 });
  const [first] = resampler.push(5n, { roll_degrees: 2 });
  const [second] = resampler.finish(10n);
  assertEquals(first?.fields, { roll_degrees: 1 });
  assertEquals(second?.fields, { roll_degrees: 2 });
});

Deno.test("Resampler makes no frame before the first message and refuses a zero period", () => {
  assertEquals(new Resampler(100n).finish(1_000n), []);
  assertThrows(() => new Resampler(0n), RangeError, "at least 1 µs");
});
