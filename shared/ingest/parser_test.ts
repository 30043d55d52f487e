import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { type CatalogueField, FIELDS } from "../catalogue/catalogue.ts";
import {
  createStreamParser,
  detectBodyFormat,
  type LineResult,
  parseJsonDocument,
  parseLine,
  PARSER_VERSION,
  type ParseResult,
  parseTelemetry,
  TooManyLinesError,
} from "./parser.ts";
import { frameRowSchema, MAX_EXTRA_KEYS, MAX_LINE_LENGTH } from "../catalogue/frame_schema.ts";

const RECEIVED = new Date("2024-05-01T12:00:00.000Z");
const AT = { receivedAt: RECEIVED } as const;

const at = (micros: number): string => `2024-05-01T12:00:00.${String(micros).padStart(6, "0")}Z`;

function parse(text: string): ParseResult {
  return parseTelemetry(text, AT);
}

/** The single frame's row of a one-frame body (fails on errors). */
function onlyRow(text: string): Record<string, unknown> {
  const result = parse(text);
  assertEquals(result.errors, []);
  assertEquals(result.frames.length, 1);
  const frame = result.frames[0];
  if (frame === undefined) throw new Error(`No frame for ${JSON.stringify(text)}`);
  return frame.row;
}

function reasons(text: string): string[] {
  return parse(text).errors.map((e) => e.reason);
}

/** A value inside the field's range, as key:value text. */
function validText(spec: CatalogueField): string {
  switch (spec.kind) {
    case "number":
      return String((spec.min + spec.max) / 2);
    case "integer":
      return String(Math.round((spec.min + spec.max) / 2));
    case "boolean":
      return "1";
    case "text":
      return "AUTO";
  }
}

function typedValue(spec: CatalogueField): unknown {
  switch (spec.kind) {
    case "number":
    case "integer":
      return Number(validText(spec));
    case "boolean":
      return true;
    case "text":
      return "AUTO";
  }
}

Deno.test("parseTelemetry parses the reference's first example", () => {
  assertEquals(parse("roll:15.2,pitch:8.1,alt:150"), {
    format: "kv",
    frames: [{
      line: 1,
      timestamped: false,
      row: {
        roll_degrees: 15.2,
        pitch_degrees: 8.1,
        altitude_m: 150,
        recorded_at: "2024-05-01T12:00:00.000000Z",
        raw_data: "roll:15.2,pitch:8.1,alt:150",
        parser_version: "2.0.0",
        data_source: "kv",
      },
    }],
    errors: [],
    rejects: [],
  });
});

Deno.test("parseTelemetry parses the reference's second example", () => {
  assertEquals(parse("roll:15.2,pitch:8.1,yaw:45.0,alt:150,bat_v:12.4,armed:1"), {
    format: "kv",
    frames: [{
      line: 1,
      timestamped: false,
      row: {
        roll_degrees: 15.2,
        pitch_degrees: 8.1,
        yaw_degrees: 45,
        altitude_m: 150,
        battery_voltage_v: 12.4,
        armed: true,
        recorded_at: "2024-05-01T12:00:00.000000Z",
        raw_data: "roll:15.2,pitch:8.1,yaw:45.0,alt:150,bat_v:12.4,armed:1",
        parser_version: PARSER_VERSION,
        data_source: "kv",
      },
    }],
    errors: [],
    rejects: [],
  });
});

Deno.test("parseTelemetry resolves every name and alias in key:value lines", async (t) => {
  for (const spec of FIELDS) {
    for (const key of [spec.name, ...spec.aliases, spec.name.toUpperCase()]) {
      await t.step(`${key} -> ${spec.name}`, () => {
        const row = onlyRow(`${key}:${validText(spec)}`);
        assertEquals(row[spec.name], typedValue(spec));
      });
    }
  }
});

Deno.test("parseTelemetry resolves every alias in JSON objects", async (t) => {
  for (const spec of FIELDS) {
    for (const key of spec.aliases) {
      await t.step(`${key} -> ${spec.name}`, () => {
        const row = onlyRow(JSON.stringify({ [key]: typedValue(spec) }));
        assertEquals(row[spec.name], typedValue(spec));
        assertEquals(row["data_source"], "json");
      });
    }
  }
});

Deno.test("parseTelemetry rejects every numeric field out of range naming it", async (t) => {
  for (const spec of FIELDS) {
    if (spec.kind !== "number" && spec.kind !== "integer") continue;
    for (const value of [spec.min - 1, spec.max + 1]) {
      await t.step(`${spec.name}:${value}`, () => {
        const result = parse(`${spec.aliases[0] ?? spec.name}:${value},ok_key:1`);
        assertEquals(result.frames, []);
        assertEquals(result.errors, [{
          line: 1,
          key: spec.name,
          reason: `"${spec.name}" must be between ${spec.min} and ${spec.max}, got ${value}`,
        }]);
      });
    }
  }
});

Deno.test("parseTelemetry rejects non-numeric text in every numeric field", async (t) => {
  for (const spec of FIELDS) {
    if (spec.kind !== "number" && spec.kind !== "integer") continue;
    for (const value of ["12abc", "NaN", "Infinity", "0x10", "1e400", "1_000", "--1"]) {
      await t.step(`${spec.name}:${value}`, () => {
        const errors = parse(`${spec.name}:${value}`).errors;
        assert(errors.length >= 1);
        assertStringIncludes(errors[0]?.reason ?? "", `"${spec.name}"`);
      });
    }
  }
});

Deno.test("parseTelemetry reads typed values", async (t) => {
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ["armed:1", { armed: true }],
    ["armed:0", { armed: false }],
    ["armed:true", { armed: true }],
    ["armed:False", { armed: false }],
    ["armed:yes", { armed: true }],
    ["armed:NO", { armed: false }],
    ["failsafe:1", { failsafe_active: true }],
    ["fs:no", { failsafe_active: false }],
    ["m1:1500", { motor1_pwm: 1500 }],
    ["m1:1500.0", { motor1_pwm: 1500 }],
    ["sats:12", { gps_satellites: 12 }],
    ["lat:47.397742,lon:8.545594", { gps_latitude: 47.397742, gps_longitude: 8.545594 }],
    ["mode:LOITER", { flight_mode: "LOITER" }],
    ['mode:"RTL"', { flight_mode: "RTL" }],
    ["mode:'AUTO'", { flight_mode: "AUTO" }],
    // -0 and magnitudes below the column type's smallest normal number are stored as 0.
    ["roll:-0", { roll_degrees: 0 }],
    ["roll:1e-50", { roll_degrees: 0 }],
    ["roll:-1e-40", { roll_degrees: 0 }],
    ["roll:1.2e-38", { roll_degrees: 1.2e-38 }],
    ["lat:5e-324", { gps_latitude: 0 }],
    ["lat:1e-300", { gps_latitude: 1e-300 }],
    ['{"roll":-1e-46}', { roll_degrees: 0 }],
    ["roll:+1.5", { roll_degrees: 1.5 }],
    ["roll:.5", { roll_degrees: 0.5 }],
    ["roll:1e1", { roll_degrees: 10 }],
    ['roll:"15"', { roll_degrees: 15 }],
    ["current:-3.5", { battery_current_a: -3.5 }],
  ];
  for (const [line, expected] of cases) {
    await t.step(line, () => {
      const row = onlyRow(line);
      for (const [key, value] of Object.entries(expected)) assertEquals(row[key], value, key);
    });
  }
});

Deno.test("parseTelemetry rejects badly typed values with the key and value", async (t) => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["armed:2", `"armed" must be a boolean (0, 1, true, false, yes or no), got "2"`],
    ["armed:maybe", `"armed" must be a boolean (0, 1, true, false, yes or no), got "maybe"`],
    ["m1:1500.5", `"motor1_pwm" must be an integer, got 1500.5`],
    ["sats:3.2", `"gps_satellites" must be an integer, got 3.2`],
    ["roll:12abc", `"roll_degrees" must be a number, got "12abc"`],
    ["roll:", `"roll_degrees" must not be empty`],
    ["roll: ", `"roll_degrees" must not be empty`],
    ['roll:""', `"roll_degrees" must not be empty`],
    ["roll:1e400", `"roll_degrees" must be a finite number, got "1e400"`],
    ["roll:Infinity", `"roll_degrees" must be a number, got "Infinity"`],
    ["roll:NaN", `"roll_degrees" must be a number, got "NaN"`],
    ["roll:0x10", `"roll_degrees" must be a number, got "0x10"`],
    ["mode:", `"flight_mode" must not be empty`],
    [`mode:${"M".repeat(33)}`, `"flight_mode" must be at most 32 characters, got 33`],
    ["roll:400", `"roll_degrees" must be between -180 and 180, got 400`],
    ['{"roll":true}', `"roll_degrees" must be a number, got true`],
    ['{"roll":null}', `"roll_degrees" must not be empty`],
    ['{"roll":[1]}', `"roll_degrees" must be a number, got [1]`],
    ['{"armed":2}', `"armed" must be a boolean (0, 1, true, false, yes or no), got 2`],
    ['{"mode":false}', `"flight_mode" must be text, got false`],
  ];
  for (const [text, reason] of cases) {
    await t.step(text, () => assertEquals(reasons(text), [reason]));
  }
});

Deno.test("parseTelemetry tolerates separators, spaces, CRLF and trailing commas", async (t) => {
  const lines = [
    "roll:1,pitch:2",
    "roll=1,pitch=2",
    "roll:1,pitch=2",
    " roll : 1 , pitch : 2 ",
    "\troll:1,\tpitch:2\t",
    "roll:1,pitch:2,",
    "roll:1,pitch:2, ,",
    "roll:1,,pitch:2",
    ",roll:1,pitch:2",
    "roll:1,pitch:2\r",
    "ROLL:1,Pitch:2",
  ];
  for (const line of lines) {
    await t.step(JSON.stringify(line), () => {
      const row = onlyRow(line);
      assertEquals([row["roll_degrees"], row["pitch_degrees"]], [1, 2]);
      assertEquals(row["raw_data"], line.replace(/\r$/, ""));
    });
  }
});

Deno.test("parseTelemetry keeps one frame per line and skips blank lines", () => {
  const result = parse("\r\nroll:1\r\n\r\n  \r\npitch:2\r\nyaw:3");
  assertEquals(result.errors, []);
  assertEquals(result.frames.map((f) => [f.line, f.row.recorded_at]), [
    [2, at(1)],
    [5, at(4)],
    [6, at(5)],
  ]);
  assertEquals(result.frames.map((f) => f.row.raw_data), ["roll:1", "pitch:2", "yaw:3"]);
});

Deno.test("parseTelemetry keeps good lines when other lines are bad", () => {
  const result = parse("roll:1\nroll:999\nnot a pair\npitch:2\nyaw:9999,roll:abc");
  assertEquals(result.frames.map((f) => f.line), [1, 4]);
  assertEquals(result.errors, [
    {
      line: 2,
      key: "roll_degrees",
      reason: `"roll_degrees" must be between -180 and 180, got 999`,
    },
    { line: 3, reason: `Expected key:value, got "not a pair"` },
    { line: 5, key: "roll_degrees", reason: `"roll_degrees" must be a number, got "abc"` },
    { line: 5, key: "yaw_degrees", reason: `"yaw_degrees" must be between -360 and 360, got 9999` },
  ]);
  assertEquals(result.rejects, [
    {
      line_number: 2,
      raw_text: "roll:999",
      reason: `"roll_degrees" must be between -180 and 180, got 999`,
    },
    { line_number: 3, raw_text: "not a pair", reason: `Expected key:value, got "not a pair"` },
    {
      line_number: 5,
      raw_text: "yaw:9999,roll:abc",
      reason:
        `"roll_degrees" must be a number, got "abc"; "yaw_degrees" must be between -360 and 360, got 9999`,
    },
  ]);
});

Deno.test("parseTelemetry gives untimestamped frames strictly increasing times", () => {
  const body = Array.from({ length: 1500 }, (_, i) => `roll:${i % 90}`).join("\n");
  const times = parse(body).frames.map((f) => f.row.recorded_at);
  assertEquals(times.length, 1500);
  for (let i = 1; i < times.length; i++) assert((times[i - 1] ?? "") < (times[i] ?? ""), `${i}`);
  assertEquals(new Set(times).size, 1500);
  assertEquals(times[1499], "2024-05-01T12:00:00.001499Z");
});

Deno.test("parseTelemetry reads timestamps in every unit", async (t) => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["ts:1714564800", "2024-05-01T12:00:00.000000Z"],
    ["ts:1714564799.5", "2024-05-01T11:59:59.500000Z"],
    ["time:1714564800123", "2024-05-01T12:00:00.123000Z"],
    ["timestamp:1714564800123456", "2024-05-01T12:00:00.123456Z"],
    ["recorded_at:2024-05-01T11:00:00Z", "2024-05-01T11:00:00.000000Z"],
    ["ts:2024-05-01T13:00:00.5+02:00", "2024-05-01T11:00:00.500000Z"],
    ["TS=2024-05-01T11:00:00.123456Z", "2024-05-01T11:00:00.123456Z"],
    ['{"ts":1714564800}', "2024-05-01T12:00:00.000000Z"],
    ['{"time":1714564800123}', "2024-05-01T12:00:00.123000Z"],
    ['{"timestamp":"1714564800123456"}', "2024-05-01T12:00:00.123456Z"],
    ['{"recorded_at":"2024-05-01T11:00:00Z"}', "2024-05-01T11:00:00.000000Z"],
  ];
  for (const [text, iso] of cases) {
    await t.step(text, () => {
      const result = parseTelemetry(
        `${text.startsWith("{") ? text.replace("}", ',"roll":1}') : `${text},roll:1`}`,
        AT,
      );
      assertEquals(result.errors, []);
      assertEquals(result.frames[0]?.row.recorded_at, iso);
      assertEquals(result.frames[0]?.timestamped, true);
    });
  }
});

Deno.test("parseTelemetry rejects implausible timestamps under recorded_at", async (t) => {
  for (const value of ["123456", "yesterday", "1714564800123456789", "2030-01-01T00:00:00Z"]) {
    await t.step(value, () => {
      const errors = parse(`ts:${value},roll:1`).errors;
      assertEquals(errors.map((e) => [e.line, e.key]), [[1, "recorded_at"]]);
      assertStringIncludes(errors[0]?.reason ?? "", `"recorded_at"`);
    });
  }
});

Deno.test("parseTelemetry keeps flight_id", () => {
  assertEquals(onlyRow("flight_id:F-42,roll:1")["flight_id"], "F-42");
  assertEquals(onlyRow('{"flight_id":42,"roll":1}')["flight_id"], "42");
  assertEquals(reasons(`flight_id:${"f".repeat(65)},roll:1`), [
    `"flight_id" must be at most 64 characters, got 65`,
  ]);
});

Deno.test("parseTelemetry rejects a line whose unknown key is not a plain identifier", async (t) => {
  const cases = ['"roll', "motor-1", "gps.fix", "9lives", "my key", "caf\u00e9"];
  for (const key of cases) {
    await t.step(key, () => {
      const result = parse(`roll:1\nalt:2,${key}:3`);
      assertEquals(result.frames.map((frame) => frame.line), [1]);
      assertEquals(result.errors.map((error) => [error.line, error.key]), [[2, key]]);
      assertStringIncludes(result.errors[0]?.reason ?? "", "must be a plain identifier");
      assertEquals(result.rejects.map((reject) => reject.line_number), [2]);
    });
  }
  await t.step("in a JSON object too", () => {
    assertEquals(parse('{"roll":1,"a b":2}').errors.map((error) => error.key), ["a b"]);
  });
  await t.step("identifiers pass, whatever their case", () => {
    assertEquals(onlyRow("roll:1,_a:1,B2:2,snake_case_9:3")["extra"], {
      _a: 1,
      B2: 2,
      snake_case_9: 3,
    });
  });
});

Deno.test("parseTelemetry keeps unknown keys in extra", async (t) => {
  await t.step("key:value values become numbers or text", () => {
    const row = onlyRow("roll:1,foo:12,Bar:abc,baz:-1.5e2,flag:true,hex:0x1f");
    assertEquals(row["extra"], { foo: 12, Bar: "abc", baz: -150, flag: "true", hex: "0x1f" });
  });
  await t.step("JSON values are kept as given", () => {
    const row = onlyRow('{"roll":1,"foo":"12","n":3,"b":false,"o":{"x":[1]}}');
    assertEquals(row["extra"], { foo: "12", n: 3, b: false, o: { x: [1] } });
  });
  await t.step("a frame of unknown keys only is kept", () => {
    assertEquals(onlyRow("foo:1")["extra"], { foo: 1 });
  });
  await t.step("no extra when every key is known", () => {
    assertEquals("extra" in onlyRow("roll:1"), false);
  });
  await t.step("an empty unknown value is rejected", () => {
    assertEquals(reasons("roll:1,foo:"), [`"foo" must not be empty`]);
  });
  await t.step(`${MAX_EXTRA_KEYS} unknown keys pass and one more fails`, () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}:${i}`).join(",");
    assertEquals(parse(keys(MAX_EXTRA_KEYS)).errors, []);
    assertEquals(reasons(keys(MAX_EXTRA_KEYS + 1)), [
      `Frame has 33 unknown keys, at most 32 are allowed`,
    ]);
  });
  await t.step("an unknown value over 256 characters is rejected", () => {
    assertEquals(reasons(`note:${"x".repeat(257)}`), [
      `"note" must be at most 256 characters, got 257`,
    ]);
  });
});

Deno.test("parseTelemetry rejects duplicate keys in one frame", async (t) => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ["roll:1,roll:2", "roll_degrees", `Duplicate key "roll_degrees" (sent as "roll" and "roll")`],
    [
      "roll:1,roll_degrees:2",
      "roll_degrees",
      `Duplicate key "roll_degrees" (sent as "roll" and "roll_degrees")`,
    ],
    ["Roll:1,ROLL:2", "roll_degrees", `Duplicate key "roll_degrees" (sent as "Roll" and "ROLL")`],
    ["alt:1,altitude:2", "altitude_m", `Duplicate key "altitude_m" (sent as "alt" and "altitude")`],
    [
      "ts:1714564800,time:1714564800,roll:1",
      "recorded_at",
      `Duplicate key "recorded_at" (sent as "ts" and "time")`,
    ],
    ["foo:1,FOO:2", "FOO", `Duplicate key "FOO" (sent as "foo" and "FOO")`],
    [
      '{"roll":1,"roll_degrees":2}',
      "roll_degrees",
      `Duplicate key "roll_degrees" (sent as "roll" and "roll_degrees")`,
    ],
    ['{"roll":1,"roll":2}', "roll_degrees", `Duplicate key "roll" in the JSON object`],
    ['{"foo":1,"foo":2}', "foo", `Duplicate key "foo" in the JSON object`],
  ];
  for (const [text, key, reason] of cases) {
    await t.step(text, () => {
      const result = parse(text);
      assertEquals(result.frames, []);
      assertEquals(result.errors, [{ line: 1, key, reason }]);
    });
  }
});

Deno.test("parseTelemetry rejects malformed keys and lines", async (t) => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    [":1", "Key must not be empty"],
    ["roll", `Expected key:value, got "roll"`],
    [`${"k".repeat(65)}:1`, `Key "${"k".repeat(40)}…" is longer than 64 characters`],
    ["__proto__:1", `Key "__proto__" is not allowed`],
    ["ro\u0001ll:1", `Key "ro\\u0001ll" contains control characters or invalid Unicode`],
    [
      "roll:1\u0000",
      `Line contains a NUL character or invalid Unicode in the value of "roll_degrees"`,
    ],
    [
      "alt:1,mode:\ud800",
      `Line contains a NUL character or invalid Unicode in the value of "flight_mode"`,
    ],
    ["\udc00", "Line contains a NUL character or invalid Unicode"],
    [
      '{"alt":1,"mode":"\u0000"}',
      `JSON object contains a NUL character or invalid Unicode in the value of "flight_mode"`,
    ],
    [`roll:1,x:${"y".repeat(MAX_LINE_LENGTH)}`, "Line is longer than 4096 characters"],
    ["ts:1714564800", "Frame has no telemetry values"],
    ["flight_id:abc", "Frame has no telemetry values"],
    ["{}", "Frame has no telemetry values"],
    ['{"__proto__":{"a":1}}', `Key "__proto__" is not allowed`],
    ['{"a":"\\u0000"}', `"a" must not contain NUL characters or invalid Unicode`],
    [
      '{"mode":"\\ud800"}',
      `"flight_mode" must not contain control characters or invalid Unicode, got "\\ud800"`,
    ],
  ];
  for (const [text, reason] of cases) {
    await t.step(JSON.stringify(text.slice(0, 60)), () => assertEquals(reasons(text), [reason]));
  }
});

Deno.test("parseTelemetry reports at most ten errors per line", () => {
  const line = Array.from({ length: 12 }, (_, i) => `m${(i % 8) + 1}x${i}:`).join(",");
  const result = parse(line);
  assertEquals(result.errors.length, 10);
  assertStringIncludes(result.rejects[0]?.reason ?? "", "; and 2 more");
});

Deno.test("parseTelemetry cleans the raw text of rejected lines", () => {
  const result = parse(`roll:1\u0000,${"x".repeat(5000)}`);
  const raw = result.rejects[0]?.raw_text ?? "";
  assertEquals(raw.length, MAX_LINE_LENGTH);
  assert(!raw.includes("\u0000"));
  assert(raw.startsWith("roll:1\uFFFD,"));
});

Deno.test("parseTelemetry parses a JSON object", () => {
  assertEquals(parse('{"roll":15.2,"pitch":8.1,"alt":150,"ts":"2024-05-01T11:00:00Z"}'), {
    format: "ndjson",
    frames: [{
      line: 1,
      timestamped: true,
      row: {
        roll_degrees: 15.2,
        pitch_degrees: 8.1,
        altitude_m: 150,
        recorded_at: "2024-05-01T11:00:00.000000Z",
        raw_data: '{"roll":15.2,"pitch":8.1,"alt":150,"ts":"2024-05-01T11:00:00Z"}',
        parser_version: "2.0.0",
        data_source: "json",
      },
    }],
    errors: [],
    rejects: [],
  });
});

Deno.test("parseTelemetry parses a pretty-printed JSON object", () => {
  const text = '\n{\n  "roll": 1,\n  "armed": "yes"\n}\n';
  const result = parse(text);
  assertEquals(result.format, "json");
  assertEquals(result.errors, []);
  assertEquals(result.frames.map((f) => [f.line, f.row.roll_degrees, f.row.armed]), [[1, 1, true]]);
  assertEquals(result.frames[0]?.row.raw_data, text.trim());
});

Deno.test("parseTelemetry parses a JSON array, element by element", () => {
  const result = parse('[{"roll":1},\n {"roll":999},\n nope,\n {"pitch":2},\n 5,\n]');
  assertEquals(result.format, "json");
  assertEquals(result.frames.map((f) => [f.line, f.row.recorded_at, f.row.raw_data]), [
    [1, at(0), '{"roll":1}'],
    [4, at(3), '{"pitch":2}'],
  ]);
  assertEquals(result.errors.map((e) => e.line), [2, 3, 5]);
  assertEquals(result.errors[2]?.reason, "Expected a JSON object, got a number");
  assertEquals(result.frames.every((f) => f.row.data_source === "json"), true);
});

Deno.test("parseTelemetry reports a broken JSON array after its good elements", async (t) => {
  await t.step("unterminated", () => {
    const result = parse('[{"roll":1},{"roll":2}');
    assertEquals(result.frames.length, 2);
    assertEquals(result.errors, [{ line: 3, reason: "JSON array is not terminated by ]" }]);
  });
  await t.step("text after the array", () => {
    const result = parse('[{"roll":1}] {"roll":2}');
    assertEquals(result.frames.length, 1);
    assertEquals(result.errors, [{ line: 2, reason: "Unexpected text after the JSON array" }]);
  });
  await t.step("empty array", () => {
    assertEquals(parse("[]"), { format: "json", frames: [], errors: [], rejects: [] });
  });
  await t.step("an empty element", () => {
    assertEquals(parse('[{"roll":1},,{"roll":2}]').errors, [
      { line: 2, reason: "Array element is empty" },
    ]);
  });
  await t.step("a single over-long element", () => {
    const big = JSON.stringify({ roll: 1, x: "y".repeat(MAX_LINE_LENGTH) });
    assertEquals(parse(`[${big}, {"roll":2}]`).errors, [
      { line: 1, reason: "JSON object is longer than 4096 characters" },
    ]);
  });
});

Deno.test("parseTelemetry parses NDJSON line by line", () => {
  const result = parse('{"roll":1}\r\n\r\n{"roll":2,"lat":47.5}\n{bad json}\n{"pitch":3}\n');
  assertEquals(result.format, "ndjson");
  assertEquals(result.frames.map((f) => [f.line, f.row.recorded_at, f.row.data_source]), [
    [1, at(0), "ndjson"],
    [3, at(2), "ndjson"],
    [5, at(4), "ndjson"],
  ]);
  assertEquals(result.errors.map((e) => e.line), [4]);
  assertStringIncludes(result.errors[0]?.reason ?? "", "Invalid JSON");
});

Deno.test("parseTelemetry rejects NDJSON lines that are not objects", async (t) => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["[1]", "Expected a JSON object, got an array"],
    ["null", "Expected a JSON object, got null"],
    ["roll:1", "Invalid JSON"],
  ];
  for (const [line, reason] of cases) {
    await t.step(line, () => {
      const errors = parse(`{"roll":1}\n${line}`).errors;
      assertEquals(errors.map((e) => e.line), [2]);
      assertStringIncludes(errors[0]?.reason ?? "", reason);
    });
  }
});

Deno.test("parseTelemetry strips a byte order mark", () => {
  assertEquals(onlyRow("\uFEFFroll:1")["raw_data"], "roll:1");
  assertEquals(parse('\uFEFF[{"roll":1}]').frames.length, 1);
});

Deno.test("parseTelemetry returns nothing for an empty body", async (t) => {
  for (const text of ["", "\n", " \r\n \n", "\uFEFF"]) {
    await t.step(JSON.stringify(text), () => {
      assertEquals(parse(text), { format: null, frames: [], errors: [], rejects: [] });
    });
  }
});

Deno.test("detectBodyFormat decides from the first non-blank line", async (t) => {
  const cases: ReadonlyArray<readonly [string, string | null]> = [
    ["roll:1", "kv"],
    ["  roll=1", "kv"],
    ["[", "json"],
    [' [{"roll":1}]', "json"],
    ["{", "json"],
    ['{"roll":', "json"],
    ['{"roll":1}', "ndjson"],
    ['{"roll":1} ', "ndjson"],
    ["", null],
    ["   ", null],
    ["123", "kv"],
  ];
  for (const [line, format] of cases) {
    await t.step(JSON.stringify(line), () => assertEquals(detectBodyFormat(line), format));
  }
});

Deno.test("parseLine parses one line with its number", () => {
  const result: LineResult | null = parseLine("roll:1\r", 7, { ...AT, format: "kv" });
  assertEquals(result, {
    ok: true,
    frame: {
      line: 7,
      timestamped: false,
      row: {
        roll_degrees: 1,
        recorded_at: at(6),
        raw_data: "roll:1",
        parser_version: PARSER_VERSION,
        data_source: "kv",
      },
    },
  });
  assertEquals(parseLine("  \r", 8, { ...AT, format: "kv" }), null);
  const json = parseLine('{"roll":1}', 2, { ...AT, format: "ndjson", dataSource: "json" });
  assertEquals(json?.ok && json.frame.row.data_source, "json");
});

Deno.test("parseJsonDocument parses a document passed whole", () => {
  assertEquals(parseJsonDocument('[{"roll":1}]', AT).frames.length, 1);
  assertEquals(parseJsonDocument('{"roll":1}', AT).frames[0]?.row.data_source, "json");
});

/** Deterministic PRNG (mulberry32), so the property tests are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  "roll:15.2,pitch:8.1,yaw:45.0,alt:150,bat_v:12.4,armed:1",
  "ts=1714564800123, m1 = 1500 , mode:LOITER, foo=bar,",
  '{"roll":1,"lat":47.5,"ts":"2024-05-01T11:00:00Z","x":{"a":[1]}}',
  '[{"roll":1},{"pitch":2,"armed":"yes"}]',
  '{\n "roll": 1,\n "sats": 9\n}',
  '{"roll":1}\n{"pitch":2}',
];
const ALPHABET = ':,=\n\r{}[]"\\ .-+eE0123456789abcxyz\u0000\ud800\uFEFF\t';

function mutate(random: () => number, text: string): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 6);
  for (let i = 0; i < edits; i++) {
    const pos = Math.floor(random() * (out.length + 1));
    const choice = random();
    const char = ALPHABET.charAt(Math.floor(random() * ALPHABET.length));
    if (choice < 0.4) out = out.slice(0, pos) + char + out.slice(pos);
    else if (choice < 0.7) out = out.slice(0, pos) + out.slice(pos + 1);
    else if (choice < 0.9) out = out.slice(0, pos) + char + out.slice(pos + 1);
    else out = out.slice(0, pos) + out.slice(pos, pos + 20).repeat(3) + out.slice(pos);
  }
  return out;
}

function randomBytes(random: () => number): string {
  const bytes = new Uint8Array(Math.floor(random() * 200));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return new TextDecoder().decode(bytes);
}

function randomUnits(random: () => number): string {
  const length = Math.floor(random() * 120);
  let out = "";
  for (let i = 0; i < length; i++) {
    out += random() < 0.5
      ? ALPHABET.charAt(Math.floor(random() * ALPHABET.length))
      : String.fromCharCode(Math.floor(random() * 0x10000));
  }
  return out;
}

function assertWellFormedResult(text: string, result: ParseResult): void {
  for (const frame of result.frames) {
    const check = frameRowSchema.safeParse(frame.row);
    assert(check.success, `frame of ${JSON.stringify(text)} fails the schema`);
    assert(frame.line >= 1);
  }
  for (const error of result.errors) assert(error.line >= 1 && error.reason.length > 0);
  for (const reject of result.rejects) {
    assert(!reject.raw_text.includes("\u0000") && reject.raw_text.isWellFormed());
    assert(reject.raw_text.length <= MAX_LINE_LENGTH);
  }
  const lines = [...result.frames.map((f) => f.line), ...result.rejects.map((r) => r.line_number)];
  assertEquals(
    new Set(lines).size,
    lines.length,
    `a line reported twice for ${JSON.stringify(text)}`,
  );
  assertEquals(new Set(result.frames.map((f) => f.row.recorded_at)).size >= 0, true);
}

Deno.test("parseTelemetry never throws on random input (seeded)", async (t) => {
  const random = prng(0x5eed);
  const generators: ReadonlyArray<readonly [string, () => string]> = [
    ["random bytes", () => randomBytes(random)],
    ["random UTF-16 units", () => randomUnits(random)],
    [
      "mutated valid bodies",
      () => mutate(random, SEEDS[Math.floor(random() * SEEDS.length)] ?? ""),
    ],
    [
      "mutated multi-line bodies",
      () => Array.from({ length: 5 }, () => mutate(random, SEEDS[0] ?? "")).join("\r\n"),
    ],
  ];
  for (const [name, generate] of generators) {
    await t.step(`${name} x 500`, () => {
      for (let i = 0; i < 500; i++) {
        const text = generate();
        let result: ParseResult;
        try {
          result = parseTelemetry(text, AT);
        } catch (error: unknown) {
          throw new Error(`parseTelemetry threw on ${JSON.stringify(text)}`, { cause: error });
        }
        assertWellFormedResult(text, result);
      }
    });
  }
});

Deno.test("createStreamParser gives the same result for any chunking (seeded)", async (t) => {
  const random = prng(42);
  const bodies = [
    ...SEEDS,
    "roll:1\r\nroll:999\r\n\r\npitch:2,foo:bar\r\n",
    `roll:1\n${"x".repeat(MAX_LINE_LENGTH + 10)}\nroll:2`,
    '\uFEFF{"roll":1}\n{"roll":2}\n',
    '  [ {"roll":1} ,\n {"roll":"x"} ]  ',
    '{\n"roll": 1\n}',
    `[${JSON.stringify({ roll: 1, x: "y".repeat(250) })},${'{"roll":2},'.repeat(400)}{}]`,
  ];
  for (const body of bodies) {
    await t.step(JSON.stringify(body.slice(0, 50)), () => {
      const whole = parseTelemetry(body, AT);
      for (let round = 0; round < 25; round++) {
        const parser = createStreamParser(AT);
        const parts: ParseResult[] = [];
        let pos = 0;
        while (pos < body.length) {
          const size = 1 + Math.floor(random() * 12);
          parts.push(parser.push(body.slice(pos, pos + size)));
          pos += size;
        }
        parts.push(parser.end());
        assertEquals(parts.flatMap((p) => p.frames), whole.frames);
        assertEquals(parts.flatMap((p) => p.errors), whole.errors);
        assertEquals(parts.flatMap((p) => p.rejects), whole.rejects);
      }
    });
  }
});

Deno.test("createStreamParser emits key:value lines as soon as they end", () => {
  const parser = createStreamParser(AT);
  assertEquals(parser.push("roll:1\npit").frames.map((f) => f.line), [1]);
  assertEquals(parser.push("ch:2\n").frames.map((f) => f.line), [2]);
  assertEquals(parser.end().frames, []);
});

Deno.test("createStreamParser holds the first NDJSON line until the body shows its framing", () => {
  const parser = createStreamParser(AT);
  assertEquals(parser.push('{"roll":1}\n').frames, []);
  const second = parser.push('{"roll":2}\n');
  assertEquals(second.frames.map((f) => [f.line, f.row.data_source]), [
    [1, "ndjson"],
    [2, "ndjson"],
  ]);
  const single = createStreamParser(AT);
  single.push('{"roll":1}\n');
  assertEquals(single.end().frames.map((f) => f.row.data_source), ["json"]);
});

Deno.test("createStreamParser matches parseTelemetry on mutated bodies (seeded)", () => {
  const random = prng(7);
  for (let i = 0; i < 300; i++) {
    const body = Array.from(
      { length: 1 + Math.floor(random() * 4) },
      () => mutate(random, SEEDS[Math.floor(random() * SEEDS.length)] ?? ""),
    ).join(random() < 0.5 ? "\n" : "\r\n");
    const parser = createStreamParser(AT);
    const parts: ParseResult[] = [];
    let pos = 0;
    while (pos < body.length) {
      const size = 1 + Math.floor(random() * 8);
      parts.push(parser.push(body.slice(pos, pos + size)));
      pos += size;
    }
    parts.push(parser.end());
    const whole = parseTelemetry(body, AT);
    assertEquals(parts.flatMap((p) => p.frames), whole.frames, JSON.stringify(body));
    assertEquals(parts.flatMap((p) => p.rejects), whole.rejects, JSON.stringify(body));
  }
});

Deno.test("parseTelemetry counts receive times from receiveBaseMicros when given", () => {
  const options = { ...AT, receiveBaseMicros: 1714564800000000n + 2500n };
  const result = parseTelemetry("roll:1\nts:1714564700,roll:2\nroll:3", options);
  assertEquals(result.frames.map((f) => f.row.recorded_at), [
    at(2500),
    "2024-05-01T11:58:20.000000Z",
    at(2502),
  ]);
});

Deno.test("createStreamParser throws TooManyLinesError at the line after maxLines", async (t) => {
  const options = { ...AT, maxLines: 3 };
  await t.step("key:value lines in one chunk, rejects counted", () => {
    const parser = createStreamParser(options);
    const error = assertThrows(
      () => parser.push("roll:1\nnope\nroll:3\nroll:4\n"),
      TooManyLinesError,
    );
    assertEquals(error.maxLines, 3);
  });
  await t.step("not for blank lines, nor at exactly maxLines", () => {
    const parser = createStreamParser(options);
    const first = parser.push("roll:1\n\n\nroll:2\n\n");
    assertEquals(first.frames.length + parser.end().frames.length, 2);
    const full = createStreamParser(options);
    assertEquals(full.push("roll:1\nroll:2\nroll:3\n").frames.length, 3);
  });
  await t.step("NDJSON lines, the held first line included", () => {
    const parser = createStreamParser(options);
    parser.push('{"roll":1}\n{"roll":2}\n{"roll":3}\n');
    assertThrows(() => parser.push('{"roll":4}\n'), TooManyLinesError);
  });
  await t.step("a JSON array, before any element is parsed", () => {
    const parser = createStreamParser(options);
    parser.push("[1,1,1,");
    parser.push("1]");
    assertThrows(() => parser.end(), TooManyLinesError);
  });
});

Deno.test("parseJsonDocument refuses an array over maxLines before parsing its elements", () => {
  const text = `[${"1,".repeat(1_000_000)}1]`;
  assertThrows(() => parseJsonDocument(text, { ...AT, maxLines: 10_000 }), TooManyLinesError);
  assertEquals(parseJsonDocument("[1,2]", { ...AT, maxLines: 2 }).rejects.length, 2);
});
