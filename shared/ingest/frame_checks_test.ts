import { assertEquals } from "@std/assert";
import { FIELDS } from "../catalogue/catalogue.ts";
import { frameRowSchema, MAX_FLIGHT_ID_LENGTH, showValue } from "../catalogue/frame_schema.ts";
import { isFrameRow } from "./frame_checks.ts";

const BASE = {
  recorded_at: "2024-05-01T12:00:00.000000Z",
  raw_data: "raw",
  parser_version: "2.0.0",
  data_source: "kv",
} as const;

/** isFrameRow must agree with the schema, and a row it accepts must be the schema's output. */
function assertAgrees(candidate: Record<string, unknown>): void {
  const parsed = frameRowSchema.safeParse(candidate);
  assertEquals(isFrameRow(candidate), parsed.success);
  if (parsed.success) assertEquals(candidate, parsed.data);
}

/**
 * A few rows the schema accepts are left to it, since its output differs from the input or
 * they never come from the parser: an `undefined` value, an `extra` without Object.prototype.
 */
function assertLeftToSchema(candidate: Record<string, unknown>): void {
  assertEquals(frameRowSchema.safeParse(candidate).success, true);
  assertEquals(isFrameRow(candidate), false);
}

const VALUES: readonly unknown[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  -180,
  180,
  180.0001,
  255,
  256,
  3000,
  3001,
  1e6,
  1e6 + 1,
  -1e7,
  Number.MAX_SAFE_INTEGER,
  NaN,
  Infinity,
  -Infinity,
  true,
  false,
  "",
  " ",
  "AUTO",
  "M".repeat(32),
  "M".repeat(33),
  "AU\tTO",
  "AU\u0000TO",
  "\ud800",
  "12",
  null,
  [],
  {},
];

Deno.test("isFrameRow agrees with frameRowSchema on each field's values", async (t) => {
  for (const field of FIELDS) {
    await t.step(field.name, () => {
      for (const value of VALUES) assertAgrees({ ...BASE, [field.name]: value });
      assertAgrees({ ...BASE, [field.name]: field.min ?? 0 });
      assertAgrees({ ...BASE, [field.name]: field.max ?? 0 });
      assertLeftToSchema({ ...BASE, [field.name]: undefined });
    });
  }
});

Deno.test("isFrameRow agrees with frameRowSchema on the metadata columns", async (t) => {
  const cases: ReadonlyArray<Record<string, unknown>> = [
    BASE,
    { ...BASE, recorded_at: "2024-05-01T12:00:00.000Z" },
    { ...BASE, recorded_at: 1 },
    { ...BASE, raw_data: "x".repeat(4096) },
    { ...BASE, raw_data: "x".repeat(4097) },
    { ...BASE, raw_data: "" },
    { ...BASE, parser_version: "" },
    { ...BASE, data_source: "ndjson" },
    { ...BASE, data_source: "csv" },
    { ...BASE, flight_id: "f".repeat(MAX_FLIGHT_ID_LENGTH) },
    { ...BASE, flight_id: "f".repeat(MAX_FLIGHT_ID_LENGTH + 1) },
    { ...BASE, flight_id: "" },
    { ...BASE, flight_id: 7 },
    { raw_data: "raw", parser_version: "2.0.0", data_source: "kv" },
    { ...BASE, roll: 1 },
  ];
  for (const candidate of cases) {
    await t.step(showValue(candidate), () => assertAgrees({ ...candidate }));
  }
});

Deno.test("isFrameRow agrees with frameRowSchema on extra", async (t) => {
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  const cases: readonly unknown[] = [
    keys(32),
    keys(33),
    {},
    { note: "x".repeat(256) },
    { note: "x".repeat(257) },
    { a: "" },
    { a: null },
    { a: NaN },
    { a: true },
    { gps: { fix: [1, 2] }, list: [1, "a", true] },
    { big: ["x".repeat(300)] },
    { a: "x\u0000" },
    { a: ["x\u0000"] },
    { a: "\ud800" },
    { ["k".repeat(64)]: 1 },
    { ["k".repeat(65)]: 1 },
    { "": 1 },
    [1],
    "x",
  ];
  for (const extra of cases) {
    await t.step(showValue(extra), () => assertAgrees({ ...BASE, extra }));
  }
  await t.step("a __proto__ key, which the schema drops", () => {
    assertLeftToSchema({ ...BASE, extra: JSON.parse('{"__proto__": 1}') });
  });
  await t.step("a null prototype", () => {
    assertLeftToSchema({ ...BASE, extra: Object.create(null) });
  });
});
