import { assertEquals } from "@std/assert";
import {
  countTopLevelKeys,
  findDuplicateKey,
  isCompleteJsonLine,
  splitJsonArray,
} from "./json_text.ts";

function parts(text: string): { elements: string[]; problem?: string } {
  const split = splitJsonArray(text);
  const elements = split.elements.map((s) => text.slice(s.start, s.end));
  return split.problem === undefined ? { elements } : { elements, problem: split.problem };
}

Deno.test("splitJsonArray finds each top-level element", async (t) => {
  const cases: ReadonlyArray<readonly [string, ReturnType<typeof parts>]> = [
    ["[]", { elements: [] }],
    ["  [ ]  ", { elements: [] }],
    ['[{"a":1}]', { elements: ['{"a":1}'] }],
    ['[{"a":1}, {"b":[1,2]} ,3]', { elements: ['{"a":1}', '{"b":[1,2]}', "3"] }],
    ['[{"a":"x,]}"},{"b":"\\"]"}]', { elements: ['{"a":"x,]}"}', '{"b":"\\"]"}'] }],
    ['[{"a":1},]', { elements: ['{"a":1}'] }],
    ["[1,,2]", { elements: ["1", "", "2"] }],
    ["[nope, {}]", { elements: ["nope", "{}"] }],
    ['[{"a":1}', { elements: ['{"a":1}'], problem: "JSON array is not terminated by ]" }],
    ['[{"a":"x', { elements: ['{"a":"x'], problem: "JSON array is not terminated by ]" }],
    ["[", { elements: [], problem: "JSON array is not terminated by ]" }],
    ["[1] x", { elements: ["1"], problem: "Unexpected text after the JSON array" }],
    ["[1]\n[2]", { elements: ["1"], problem: "Unexpected text after the JSON array" }],
    ["[}]", { elements: ["}"] }],
  ];
  for (const [text, expected] of cases) {
    await t.step(text, () => assertEquals(parts(text), expected));
  }
});

Deno.test("splitJsonArray stops at the element after maxElements", async (t) => {
  const cases: ReadonlyArray<readonly [string, number, number, boolean]> = [
    ["[1,2,3]", 3, 3, false],
    ["[1,2,3,]", 3, 3, false],
    ["[1,2,3 ]", 3, 3, false],
    ["[1,2,3,4]", 3, 3, true],
    ["[1,2,3,,]", 3, 3, true],
    ["[]", 0, 0, false],
    ["[1]", 0, 0, true],
  ];
  for (const [text, max, found, tooMany] of cases) {
    await t.step(`${text} with at most ${max}`, () => {
      const split = splitJsonArray(text, max);
      assertEquals([split.elements.length, split.tooMany === true], [found, tooMany]);
    });
  }
});

Deno.test("isCompleteJsonLine is true only for one balanced value", async (t) => {
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ['{"a":1}', true],
    ['  {"a":{"b":[1]}}  ', true],
    ['{"a":"}"}', true],
    ["{", false],
    ['{"a":1', false],
    ['{"a":1}{"b":2}', false],
    ['{"a":"', false],
    ["roll:1", false],
    ["[1]", true],
  ];
  for (const [text, expected] of cases) {
    await t.step(text, () => assertEquals(isCompleteJsonLine(text), expected));
  }
});

Deno.test("findDuplicateKey finds repeated top-level keys only", async (t) => {
  const cases: ReadonlyArray<readonly [string, string | undefined]> = [
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"a":2}', "a"],
    ['{"a":1,"\\u0061":2}', "a"],
    ['{"a":1,"A":2}', undefined],
    ['{"a":{"b":1,"b":2}}', undefined],
    ['{"a":[{"a":1}],"b":"a"}', undefined],
    ['{"x":"a","y":{"x":1},"x":3}', "x"],
    ["{}", undefined],
  ];
  for (const [text, expected] of cases) {
    await t.step(text, () => assertEquals(findDuplicateKey(text), expected));
  }
});

Deno.test("countTopLevelKeys counts top-level members, repeated ones each time", async (t) => {
  const cases: ReadonlyArray<readonly [string, number]> = [
    ["{}", 0],
    ['{"a":1}', 1],
    [' { "a" : 1 , "b" : "x:y" } ', 2],
    ['{"a":1,"a":2}', 2],
    ['{"a":{"b":1,"c":2},"d":[{"e":1}]}', 2],
    ['{"a\\\\":"\\\\\\":","b":2}', 2],
    ['{"a\\":":1}', 1],
  ];
  for (const [text, expected] of cases) {
    await t.step(text, () => {
      assertEquals(countTopLevelKeys(text), expected);
      // For valid JSON, equal to the parsed object's keys exactly when none repeats.
      const keys = Object.keys(JSON.parse(text)).length;
      assertEquals(keys === expected, findDuplicateKey(text) === undefined);
    });
  }
});
