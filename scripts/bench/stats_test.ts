import { assertAlmostEquals, assertEquals } from "@std/assert";
import { median, percentile, spread } from "./stats.ts";

Deno.test("percentile takes the nearest rank of the sorted values", () => {
  const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assertEquals(percentile(values, 0.5), 5);
  assertEquals(percentile(values, 0.99), 10);
  assertEquals(percentile(values, 0), 1);
  assertEquals(percentile([], 0.5), NaN);
});

Deno.test("median and spread describe the rounds of one figure", () => {
  assertEquals(median([3, 1, 2]), 2);
  assertAlmostEquals(spread([90, 100, 110]), 0.2);
});
