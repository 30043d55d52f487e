import { assert, assertEquals } from "@std/assert";
import { emptyRow } from "./row_template.ts";

Deno.test("emptyRow gives a fresh object with the keys in their order, each null", () => {
  const a = emptyRow(["roll_degrees", "recorded_at", "raw_data"]);
  const b = emptyRow(["roll_degrees", "recorded_at", "raw_data"]);
  assertEquals(Object.keys(a), ["roll_degrees", "recorded_at", "raw_data"]);
  assertEquals(Object.values(a), [null, null, null]);
  a["roll_degrees"] = 1.5;
  assertEquals(b["roll_degrees"], null, "each call is its own copy");
});

Deno.test("emptyRow reads only the first `count` keys of a reused scratch array", () => {
  const scratch = ["alt", "roll", "recorded_at", "left over"];
  assertEquals(Object.keys(emptyRow(scratch, 3)), ["alt", "roll", "recorded_at"]);
  scratch[1] = "pitch";
  assertEquals(Object.keys(emptyRow(scratch, 3)), ["alt", "pitch", "recorded_at"]);
  assertEquals(Object.keys(emptyRow(scratch, 2)), ["alt", "pitch"]);
});

Deno.test("emptyRow keeps shapes apart, many of them, and __proto__ stays a key", () => {
  for (let n = 0; n < 100; n++) {
    const keys = Array.from({ length: (n % 7) + 1 }, (_, i) => `k${n}_${i}`);
    assertEquals(Object.keys(emptyRow(keys)), keys);
  }
  const row = emptyRow(["__proto__", "x"]);
  assert(Object.hasOwn(row, "__proto__"));
  assertEquals(Object.getPrototypeOf(row), Object.prototype);
});
