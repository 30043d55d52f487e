import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type CatalogueField, FIELD_BY_NAME, FIELD_NAMES, FIELDS } from "./catalogue.ts";
import {
  coerceFieldValue,
  coerceKvExtraValue,
  DATA_SOURCES,
  extraValueSchema,
  fieldReason,
  frameRowSchema,
  isSafeText,
  MAX_EXTRA_KEYS,
  MAX_FLIGHT_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_LINE_LENGTH,
  MAX_VALUE_LENGTH,
  showValue,
  storableValue,
  STRICT_NUMBER,
  validateFrame,
} from "./frame_schema.ts";

const BASE = {
  recorded_at: "2024-05-01T12:00:00.000000Z",
  raw_data: "raw",
  parser_version: "2.0.0",
  data_source: "kv",
} as const;

function errorsOf(candidate: Record<string, unknown>): Array<{ key?: string; reason: string }> {
  const result = validateFrame({ ...BASE, ...candidate }, 7);
  if (result.ok) return [];
  return result.errors.map((e) => {
    assertEquals(e.line, 7);
    return e.key === undefined ? { reason: e.reason } : { key: e.key, reason: e.reason };
  });
}

function spec(name: string): CatalogueField {
  const found = FIELD_BY_NAME.get(name);
  if (found === undefined) throw new TypeError(`No field "${name}"`);
  return found;
}

const numericFields = FIELDS.filter((f) => f.kind === "number" || f.kind === "integer");

Deno.test("limits are the documented values", () => {
  assertEquals(
    [MAX_LINE_LENGTH, MAX_KEY_LENGTH, MAX_VALUE_LENGTH, MAX_EXTRA_KEYS, MAX_FLIGHT_ID_LENGTH],
    [4096, 64, 256, 32, 64],
  );
  assertEquals([...DATA_SOURCES], ["kv", "json", "ndjson"]);
});

Deno.test("frameRowSchema has one key per catalogue field plus the metadata columns", () => {
  assertEquals(Object.keys(frameRowSchema.shape), [
    ...FIELD_NAMES,
    "recorded_at",
    "flight_id",
    "raw_data",
    "parser_version",
    "data_source",
    "extra",
  ]);
});

Deno.test("validateFrame accepts a frame with only metadata columns", () => {
  assertEquals(validateFrame(BASE, 1), { ok: true, row: { ...BASE } });
});

Deno.test("validateFrame accepts each numeric field at both ends of its range", async (t) => {
  for (const f of numericFields) {
    await t.step(f.name, () => {
      assertEquals(errorsOf({ [f.name]: f.min }), []);
      assertEquals(errorsOf({ [f.name]: f.max }), []);
    });
  }
});

Deno.test("validateFrame rejects each numeric field below its range naming it", async (t) => {
  for (const f of numericFields) {
    const value = f.min - 1;
    await t.step(f.name, () => {
      assertEquals(errorsOf({ [f.name]: value }), [{
        key: f.name,
        reason: `"${f.name}" must be between ${f.min} and ${f.max}, got ${value}`,
      }]);
    });
  }
});

Deno.test("validateFrame rejects each numeric field above its range naming it", async (t) => {
  for (const f of numericFields) {
    const value = f.max + 0.5;
    await t.step(f.name, () => {
      const errors = errorsOf({ [f.name]: value });
      assertEquals(errors.length, 1);
      assertEquals(errors[0]?.key, f.name);
      assertStringIncludes(errors[0]?.reason ?? "", `"${f.name}" must be`);
    });
  }
});

Deno.test("validateFrame rejects NaN and infinities in each numeric field", async (t) => {
  for (const f of numericFields) {
    for (const value of [NaN, Infinity, -Infinity]) {
      await t.step(`${f.name} = ${value}`, () => {
        assertEquals(errorsOf({ [f.name]: value }).map((e) => e.key), [f.name]);
      });
    }
  }
});

Deno.test("validateFrame rejects empty values in each field", async (t) => {
  for (const f of FIELDS) {
    for (const value of ["", null]) {
      await t.step(`${f.name} = ${JSON.stringify(value)}`, () => {
        assertEquals(errorsOf({ [f.name]: value }), [{
          key: f.name,
          reason: `"${f.name}" must not be empty`,
        }]);
      });
    }
  }
});

Deno.test("validateFrame rejects text in each numeric field", async (t) => {
  for (const f of numericFields) {
    await t.step(f.name, () => {
      assertEquals(errorsOf({ [f.name]: "12abc" }), [{
        key: f.name,
        reason: `"${f.name}" must be a number, got "12abc"`,
      }]);
    });
  }
});

Deno.test("validateFrame rejects fractions in each integer field", async (t) => {
  for (const f of FIELDS.filter((x) => x.kind === "integer")) {
    await t.step(f.name, () => {
      assertEquals(errorsOf({ [f.name]: f.min + 0.5 }), [{
        key: f.name,
        reason: `"${f.name}" must be an integer, got ${f.min + 0.5}`,
      }]);
    });
  }
});

Deno.test("validateFrame checks boolean fields", async (t) => {
  for (const f of FIELDS.filter((x) => x.kind === "boolean")) {
    await t.step(`${f.name} accepts true and false`, () => {
      assertEquals(errorsOf({ [f.name]: true }), []);
      assertEquals(errorsOf({ [f.name]: false }), []);
    });
    await t.step(`${f.name} rejects other values`, () => {
      assertEquals(errorsOf({ [f.name]: "maybe" }), [{
        key: f.name,
        reason: `"${f.name}" must be a boolean (0, 1, true, false, yes or no), got "maybe"`,
      }]);
      assertEquals(errorsOf({ [f.name]: 2 }).length, 1);
    });
  }
});

Deno.test("validateFrame checks flight_mode length and characters", async (t) => {
  await t.step(
    "32 characters pass",
    () => assertEquals(errorsOf({ flight_mode: "M".repeat(32) }), []),
  );
  await t.step("33 characters fail", () => {
    assertEquals(errorsOf({ flight_mode: "M".repeat(33) }), [{
      key: "flight_mode",
      reason: `"flight_mode" must be at most 32 characters, got 33`,
    }]);
  });
  await t.step("control characters fail", () => {
    assertEquals(errorsOf({ flight_mode: "AU\u0000TO" }).map((e) => e.key), ["flight_mode"]);
    assertEquals(errorsOf({ flight_mode: "AU\tTO" }).map((e) => e.key), ["flight_mode"]);
  });
  await t.step("a lone surrogate fails", () => {
    assertEquals(errorsOf({ flight_mode: "\ud800" }).map((e) => e.key), ["flight_mode"]);
  });
  await t.step("a number fails", () => {
    assertEquals(errorsOf({ flight_mode: 4 }), [{
      key: "flight_mode",
      reason: `"flight_mode" must be text, got 4`,
    }]);
  });
});

Deno.test("validateFrame checks flight_id", async (t) => {
  await t.step("64 characters pass", () => {
    assertEquals(errorsOf({ flight_id: "f".repeat(MAX_FLIGHT_ID_LENGTH) }), []);
  });
  await t.step("65 characters fail", () => {
    assertEquals(errorsOf({ flight_id: "f".repeat(65) }), [{
      key: "flight_id",
      reason: `"flight_id" must be at most 64 characters, got 65`,
    }]);
  });
  await t.step("empty fails", () => {
    assertEquals(errorsOf({ flight_id: "" }), [{
      key: "flight_id",
      reason: `"flight_id" must not be empty`,
    }]);
  });
});

Deno.test("validateFrame gives the reference message for an out-of-range roll", () => {
  assertEquals(errorsOf({ roll_degrees: 400 }), [{
    key: "roll_degrees",
    reason: `"roll_degrees" must be between -180 and 180, got 400`,
  }]);
});

Deno.test("validateFrame reports every bad field once", () => {
  assertEquals(errorsOf({ roll_degrees: 400, motor1_pwm: 99999.5, armed: "x" }).map((e) => e.key), [
    "armed",
    "roll_degrees",
    "motor1_pwm",
  ]);
});

Deno.test("validateFrame checks extra", async (t) => {
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  await t.step("32 unknown keys pass", () => assertEquals(errorsOf({ extra: keys(32) }), []));
  await t.step("33 unknown keys fail", () => {
    assertEquals(errorsOf({ extra: keys(33) }), [{
      reason: "Frame has 33 unknown keys, at most 32 are allowed",
    }]);
  });
  await t.step("a 256-character value passes", () => {
    assertEquals(errorsOf({ extra: { note: "x".repeat(256) } }), []);
  });
  await t.step("a 257-character value fails", () => {
    assertEquals(errorsOf({ extra: { note: "x".repeat(257) } }), [{
      key: "note",
      reason: `"note" must be at most 256 characters, got 257`,
    }]);
  });
  await t.step("empty and null values fail", () => {
    assertEquals(errorsOf({ extra: { a: "" } }), [{ key: "a", reason: `"a" must not be empty` }]);
    assertEquals(errorsOf({ extra: { a: null } }), [{ key: "a", reason: `"a" must not be empty` }]);
  });
  await t.step("small nested JSON passes", () => {
    assertEquals(errorsOf({ extra: { gps: { fix: [1, 2] }, list: [1, "a", true] } }), []);
  });
  await t.step("large nested JSON fails", () => {
    assertEquals(errorsOf({ extra: { big: ["x".repeat(300)] } }).map((e) => e.key), ["big"]);
  });
  await t.step("NUL in a value fails", () => {
    assertEquals(errorsOf({ extra: { a: "x\u0000" } }).map((e) => e.key), ["a"]);
    assertEquals(errorsOf({ extra: { a: ["x\u0000"] } }).map((e) => e.key), ["a"]);
  });
  await t.step("a 65-character key fails", () => {
    assertEquals(errorsOf({ extra: { ["k".repeat(65)]: 1 } }).length, 1);
  });
});

Deno.test("validateFrame rejects unknown top-level keys", () => {
  assertEquals(errorsOf({ roll: 1 }).length, 1);
});

Deno.test("extraValueSchema accepts numbers, booleans, text and nested JSON", async (t) => {
  const cases: ReadonlyArray<readonly [unknown, boolean]> = [
    [1, true],
    [-1.5, true],
    [true, true],
    ["text", true],
    [[1, 2], true],
    [{ a: { b: 1 } }, true],
    [null, false],
    ["", false],
    [Infinity, false],
    [NaN, false],
    [{ ["__proto__"]: 1 }, false],
    [JSON.parse('{"__proto__": 1}'), false],
    [["\ud800"], false],
  ];
  for (const [value, ok] of cases) {
    await t.step(`${showValue(value)} -> ${ok}`, () => {
      assertEquals(extraValueSchema.safeParse(value).success, ok);
    });
  }
});

Deno.test("STRICT_NUMBER accepts plain decimals only", async (t) => {
  const accepted = ["0", "-0", "+1", "15.2", "-180", "1.", ".5", "1e3", "1E-3", "-2.5e+10", "007"];
  const rejected = [
    "",
    " ",
    "12abc",
    "abc",
    "0x10",
    "0b1",
    "1_000",
    "1,5",
    "Infinity",
    "-Infinity",
    "NaN",
    "--1",
    "+-1",
    "1e",
    "e5",
    ".",
    "1.2.3",
    " 1",
    "1 ",
    "１",
  ];
  for (const text of accepted) {
    await t.step(`accepts ${JSON.stringify(text)}`, () => assert(STRICT_NUMBER.test(text)));
  }
  for (const text of rejected) {
    await t.step(`rejects ${JSON.stringify(text)}`, () => assert(!STRICT_NUMBER.test(text)));
  }
});

Deno.test("coerceFieldValue converts values to the field's kind", async (t) => {
  const cases: ReadonlyArray<readonly [CatalogueField["kind"], unknown, unknown]> = [
    ["number", "15.2", 15.2],
    ["number", " 15.2 ", 15.2],
    ["number", "-1e3", -1000],
    ["number", 3, 3],
    ["number", "12abc", "12abc"],
    ["number", "0x10", "0x10"],
    ["number", "1e400", "1e400"],
    ["number", "", ""],
    ["number", true, true],
    ["number", null, null],
    ["integer", "1500", 1500],
    ["integer", "1500.0", 1500],
    ["integer", "1500.5", 1500.5],
    ["boolean", "1", true],
    ["boolean", "0", false],
    ["boolean", "true", true],
    ["boolean", "FALSE", false],
    ["boolean", "Yes", true],
    ["boolean", "no", false],
    ["boolean", " yes ", true],
    ["boolean", 1, true],
    ["boolean", 0, false],
    ["boolean", true, true],
    ["boolean", false, false],
    ["boolean", "2", "2"],
    ["boolean", 2, 2],
    ["boolean", "on", "on"],
    ["boolean", "1.0", "1.0"],
    ["text", " LOITER ", "LOITER"],
    ["text", 4, "4"],
    ["text", true, true],
    ["text", null, null],
  ];
  for (const [kind, input, output] of cases) {
    await t.step(`${kind} ${showValue(input)} -> ${showValue(output)}`, () => {
      assertEquals(coerceFieldValue(kind, input), output);
    });
  }
});

Deno.test("storableValue stores 0 for -0 and magnitudes below the type's smallest normal", () => {
  assertEquals(storableValue("real", 1e-50), 0);
  assertEquals(Object.is(storableValue("real", -0), 0), true);
  assertEquals(storableValue("real", -1e-39), 0);
  assertEquals(storableValue("real", 1.1754943508222875e-38), 1.1754943508222875e-38);
  assertEquals(storableValue("real", 1e-30), 1e-30);
  assertEquals(storableValue("double precision", 1e-39), 1e-39);
  assertEquals(storableValue("double precision", 5e-324), 0);
  assertEquals(storableValue("integer", 1500), 1500);
  assertEquals(Object.is(storableValue("integer", -0), 0), true);
  assertEquals(storableValue("real", "12abc"), "12abc");
});

Deno.test("coerceKvExtraValue keeps numbers as numbers and the rest as text", async (t) => {
  const cases: ReadonlyArray<readonly [string, string | number]> = [
    ["12", 12],
    ["-1.5", -1.5],
    ["1e3", 1000],
    ["abc", "abc"],
    ["true", "true"],
    ["", ""],
    ["1e400", "1e400"],
    ["0x1f", "0x1f"],
  ];
  for (const [input, output] of cases) {
    await t.step(`${JSON.stringify(input)} -> ${showValue(output)}`, () => {
      assertEquals(coerceKvExtraValue(input), output);
    });
  }
});

Deno.test("fieldReason explains each kind of bad value", async (t) => {
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ["roll_degrees", 400, `"roll_degrees" must be between -180 and 180, got 400`],
    ["roll_degrees", "1e400", `"roll_degrees" must be a finite number, got "1e400"`],
    ["roll_degrees", "abc", `"roll_degrees" must be a number, got "abc"`],
    ["roll_degrees", true, `"roll_degrees" must be a number, got true`],
    ["roll_degrees", " ", `"roll_degrees" must not be empty`],
    ["motor1_pwm", 1.5, `"motor1_pwm" must be an integer, got 1.5`],
    ["gps_satellites", 300, `"gps_satellites" must be between 0 and 255, got 300`],
    ["armed", "2", `"armed" must be a boolean (0, 1, true, false, yes or no), got "2"`],
    ["flight_mode", [1], `"flight_mode" must be text, got [1]`],
  ];
  for (const [name, value, reason] of cases) {
    await t.step(reason, () => assertEquals(fieldReason(spec(name), value), reason));
  }
});

Deno.test("showValue quotes text and cuts long values", () => {
  assertEquals(showValue("abc"), `"abc"`);
  assertEquals(showValue("x".repeat(50)), JSON.stringify(`${"x".repeat(40)}…`));
  assertEquals(showValue(1.5), "1.5");
  assertEquals(showValue(null), "null");
  assertEquals(showValue({ a: 1 }), `{"a":1}`);
  assertEquals(showValue(undefined), "undefined");
});

Deno.test("isSafeText refuses control characters and lone surrogates", async (t) => {
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ["LOITER", true],
    ["héllo ✈", true],
    ["😀", true],
    ["a\u0000b", false],
    ["a\tb", false],
    ["a\nb", false],
    ["a\u007fb", false],
    ["\ud83d", false],
    ["\ude00x", false],
  ];
  for (const [text, ok] of cases) {
    await t.step(`${JSON.stringify(text)} -> ${ok}`, () => assertEquals(isSafeText(text), ok));
  }
});
