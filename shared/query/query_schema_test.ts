import { assertEquals, assertNotEquals } from "@std/assert";
import { FIELD_NAMES } from "../catalogue/catalogue.ts";
import { encodeCursor } from "./query_cursor.ts";
import {
  ALWAYS_SELECTED,
  canonicalQuery,
  columnsOf,
  inFrameOrder,
  MAX_LIMIT,
  MAX_OFFSET,
  normaliseTimestamp,
  type ParameterProblem,
  parseTelemetryQuery,
  type TelemetryQuery,
} from "./query_schema.ts";

function parse(query: string) {
  return parseTelemetryQuery(new URLSearchParams(query));
}

function ok(query: string): TelemetryQuery {
  const result = parse(query);
  if (!result.success) throw new Error(`expected "${query}" to pass: ${JSON.stringify(result)}`);
  return result.query;
}

function problemList(query: string): ParameterProblem[] {
  const result = parse(query);
  if (result.success) throw new Error(`expected "${query}" to fail`);
  return result.problems;
}

function problems(query: string): string[] {
  return problemList(query).map((problem) => problem.parameter);
}

Deno.test("parseTelemetryQuery() fills in the reference API's defaults when nothing is given", () => {
  assertEquals(ok(""), {
    limit: 100,
    offset: 0,
    order_by: "created_at",
    desc: true,
    format: "json",
  });
});

Deno.test("parseTelemetryQuery() reads every parameter when all are valid", () => {
  assertEquals(
    ok(
      "limit=5&offset=10&order_by=roll_degrees&desc=false" +
        "&device_id=0F2C1A3E-1B2C-4D5E-8F90-A1B2C3D4E5F6&flight_id=f-1" +
        "&from=2026-11-01T00:00:00Z&to=2026-11-01T00:10:00Z&fields=roll_degrees,pitch_degrees" +
        "&format=csv",
    ),
    {
      limit: 5,
      offset: 10,
      order_by: "roll_degrees",
      desc: false,
      device_id: "0f2c1a3e-1b2c-4d5e-8f90-a1b2c3d4e5f6",
      flight_id: "f-1",
      from: "2026-11-01T00:00:00Z",
      to: "2026-11-01T00:10:00Z",
      fields: ["roll_degrees", "pitch_degrees"],
      format: "csv",
    },
  );
});

Deno.test("parseTelemetryQuery() accepts limits from 1 to 1000", () => {
  for (const limit of [1, 2, 99, 100, 500, 999, MAX_LIMIT]) {
    assertEquals(ok(`limit=${limit}`).limit, limit);
  }
});

Deno.test("parseTelemetryQuery() names limit when it is not an integer from 1 to 1000", () => {
  for (
    const limit of [
      "0",
      "1001",
      "-1",
      "abc",
      "",
      "1.5",
      "1e2",
      " 5",
      "5 ",
      "+5",
      "0x10",
      "99999999999",
    ]
  ) {
    assertEquals(problems(`limit=${encodeURIComponent(limit)}`), ["limit"], `limit=${limit}`);
  }
});

Deno.test("parseTelemetryQuery() accepts an integer offset from 0 to MAX_OFFSET", () => {
  for (const offset of [0, 1, 100, MAX_OFFSET]) {
    assertEquals(ok(`offset=${offset}`).offset, offset);
  }
});

Deno.test("parseTelemetryQuery() names offset when it is negative, fractional, not a number or past MAX_OFFSET", () => {
  for (const offset of ["-1", "1.5", "x", "", "2147483648", "1e3", String(MAX_OFFSET + 1)]) {
    assertEquals(problems(`offset=${encodeURIComponent(offset)}`), ["offset"], `offset=${offset}`);
  }
});

Deno.test("parseTelemetryQuery() accepts every catalogue column and both times as order_by", () => {
  for (const column of ["created_at", "recorded_at", ...FIELD_NAMES]) {
    const window = "from=2026-11-01T00:00:00Z&to=2026-11-01T00:10:00Z";
    assertEquals(ok(`order_by=${column}&${window}`).order_by, column);
  }
});

Deno.test("parseTelemetryQuery() names order_by when it is not a catalogue column or time", () => {
  for (
    const column of [
      "roll",
      "ROLL_DEGREES",
      "id",
      "device_id",
      "raw_data",
      "extra",
      "created_at;drop table x",
      "roll_degrees.desc",
      "",
    ]
  ) {
    assertEquals(problems(`order_by=${encodeURIComponent(column)}`), ["order_by"], column);
  }
});

Deno.test("parseTelemetryQuery() reads desc as true or false in any case, and 1 or 0", () => {
  const cases: [string, boolean][] = [
    ["true", true],
    ["TRUE", true],
    ["True", true],
    ["1", true],
    ["false", false],
    ["FALSE", false],
    ["0", false],
  ];
  for (const [text, value] of cases) assertEquals(ok(`desc=${text}`).desc, value, text);
});

Deno.test("parseTelemetryQuery() names desc when it is not a boolean", () => {
  for (const text of ["yes", "no", "", "2", "truee", "t"]) {
    assertEquals(problems(`desc=${text}`), ["desc"], text);
  }
});

Deno.test("parseTelemetryQuery() lower-cases a valid device_id", () => {
  assertEquals(
    ok("device_id=AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE").device_id,
    "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  );
  assertEquals(
    ok("device_id=00000000-0000-0000-0000-000000000000").device_id,
    "00000000-0000-0000-0000-000000000000",
  );
});

Deno.test("parseTelemetryQuery() names device_id when it is not a UUID", () => {
  for (
    const id of [
      "",
      "abc",
      "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee",
      "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeeee",
      "gaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
      "aaaaaaaabbbb4ccc8dddeeeeeeeeeeee",
      "{aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee}",
      "1 or 1=1",
    ]
  ) {
    assertEquals(problems(`device_id=${encodeURIComponent(id)}`), ["device_id"], id);
  }
});

Deno.test("parseTelemetryQuery() accepts a flight_id of 1 to 64 safe characters", () => {
  assertEquals(ok("flight_id=mission%2042").flight_id, "mission 42");
  assertEquals(ok(`flight_id=${"f".repeat(64)}`).flight_id, "f".repeat(64));
});

Deno.test("parseTelemetryQuery() names flight_id when it is empty, too long or holds controls", () => {
  for (const id of ["", "f".repeat(65), "a\u0000b", "a\nb"]) {
    assertEquals(
      problems(`flight_id=${encodeURIComponent(id)}`),
      ["flight_id"],
      JSON.stringify(id),
    );
  }
});

Deno.test("parseTelemetryQuery() accepts ISO 8601 dates and date-times as from and to", () => {
  const cases: [string, string][] = [
    ["2026-11-26", "2026-11-26T00:00:00Z"],
    ["2026-11-26T10:00", "2026-11-26T10:00Z"],
    ["2026-11-26T10:00:00", "2026-11-26T10:00:00Z"],
    ["2026-11-26T10:00:00Z", "2026-11-26T10:00:00Z"],
    ["2026-11-26t10:00:00z", "2026-11-26t10:00:00Z"],
    ["2026-11-26T10:00:00.123Z", "2026-11-26T10:00:00.123Z"],
    ["2026-11-26T10:00:00.123456Z", "2026-11-26T10:00:00.123456Z"],
    ["2026-11-26T10:00:00+02:00", "2026-11-26T10:00:00+02:00"],
    ["2026-11-26T10:00:00-0530", "2026-11-26T10:00:00-05:30"],
    ["2026-11-26T10:00:00+02", "2026-11-26T10:00:00+02:00"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"],
  ];
  for (const [text, normalised] of cases) {
    assertEquals(ok(`from=${encodeURIComponent(text)}`).from, normalised, text);
    assertEquals(ok(`to=${encodeURIComponent(text)}`).to, normalised, text);
  }
});

Deno.test("parseTelemetryQuery() puts back a + of an offset that arrived unencoded", () => {
  assertEquals(ok("from=2026-11-26T10:00:00+02:00").from, "2026-11-26T10:00:00+02:00");
});

Deno.test("parseTelemetryQuery() names from or to when they are not ISO 8601", () => {
  for (
    const text of [
      "",
      "yesterday",
      "1700000000",
      "2026-13-01",
      "2026-02-30",
      "2025-02-29",
      "2026-11-26T24:00:00Z",
      "2026-11-26T10:60:00Z",
      "2026-11-26T10:00:61Z",
      "2026-11-26T10:00:00.1234567Z",
      "2026-11-26T10:00:00+15:00",
      "2026-11-26 10:00:00",
      "26/11/2026",
      "2026-11-26T10:00:00ZZ",
    ]
  ) {
    assertEquals(problems(`from=${encodeURIComponent(text)}`), ["from"], text);
    assertEquals(problems(`to=${encodeURIComponent(text)}`), ["to"], text);
  }
});

Deno.test("parseTelemetryQuery() names from when it is after to", () => {
  assertEquals(problems("from=2026-11-02&to=2026-11-01"), ["from"]);
  assertEquals(ok("from=2026-11-01&to=2026-11-01").from, "2026-11-01T00:00:00Z");
  assertEquals(
    ok("from=2026-11-01T02:00:00%2B02:00&to=2026-11-01T00:00:00Z").to,
    "2026-11-01T00:00:00Z",
  );
});

Deno.test("parseTelemetryQuery() reads fields as a comma-separated list, trimmed, without repeats", () => {
  assertEquals(ok("fields=roll_degrees").fields, ["roll_degrees"]);
  assertEquals(ok("fields=roll_degrees, pitch_degrees ,roll_degrees,").fields, [
    "roll_degrees",
    "pitch_degrees",
  ]);
  assertEquals(ok("fields=recorded_at,extra,raw_data").fields, [
    "recorded_at",
    "extra",
    "raw_data",
  ]);
  assertEquals(ok(`fields=${FIELD_NAMES.join(",")}`).fields, [...FIELD_NAMES]);
});

Deno.test("parseTelemetryQuery() names fields when a column is unknown or none is given", () => {
  for (
    const text of ["", ",", " , ", "roll", "roll_degrees,nope", "*", "ROLL_DEGREES", "owner_id"]
  ) {
    assertEquals(problems(`fields=${encodeURIComponent(text)}`), ["fields"], text);
  }
  const found = problemList("fields=roll_degrees,nope,alt");
  assertEquals(
    found[0]?.message,
    'names unknown columns "nope", "alt"; use telemetry field names (GET /config), got "roll_degrees,nope,alt"',
  );
});

Deno.test("parseTelemetryQuery() names each unknown parameter", () => {
  assertEquals(problems("limt=5"), ["limt"]);
  assertEquals(problems("select=*&order=roll_degrees"), ["select", "order"]);
  assertEquals(problems("LIMIT=5"), ["LIMIT"]);
});

Deno.test("parseTelemetryQuery() names a parameter given twice", () => {
  assertEquals(problems("limit=5&limit=6"), ["limit"]);
  assertEquals(problems("device_id=a&device_id=b&device_id=c"), ["device_id"]);
});

Deno.test("parseTelemetryQuery() reports every bad parameter, with the value it got", () => {
  const found = problemList("limit=0&offset=-1&desc=maybe&bogus=1");
  assertEquals(found, [
    { parameter: "limit", message: 'must be an integer from 1 to 1000, got "0"' },
    { parameter: "offset", message: 'must be an integer from 0 to 10000, got "-1"' },
    { parameter: "desc", message: 'must be true or false, got "maybe"' },
    {
      parameter: "bogus",
      message:
        "is not a known parameter; use limit, offset, order_by, desc, device_id, flight_id, from, to, fields, cursor, format",
    },
  ]);
});

Deno.test("parseTelemetryQuery() shortens a long value in its message", () => {
  const found = problemList(`order_by=${"x".repeat(500)}`);
  const message = found[0]?.message ?? "";
  assertEquals(message.endsWith(`got "${"x".repeat(60)}…"`), true, message);
});

Deno.test("normaliseTimestamp() returns null for text that only looks like a date", () => {
  assertEquals(normaliseTimestamp("0000-00-00"), null);
  assertEquals(normaliseTimestamp("2026-11-26T10"), null);
  assertEquals(normaliseTimestamp("2026-1-2"), null);
});

Deno.test("canonicalQuery() is equal for queries that differ only in spelling", () => {
  assertEquals(canonicalQuery(ok("")), canonicalQuery(ok("limit=100&offset=0&desc=TRUE")));
  assertEquals(
    canonicalQuery(ok("fields=pitch_degrees,roll_degrees")),
    canonicalQuery(ok("fields=roll_degrees,%20pitch_degrees,roll_degrees")),
  );
  assertEquals(
    canonicalQuery(ok("device_id=AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE")),
    canonicalQuery(ok("device_id=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")),
  );
});

Deno.test("canonicalQuery() differs when any parameter differs", () => {
  const base = canonicalQuery(ok(""));
  for (
    const query of [
      "limit=99",
      "offset=1",
      "order_by=recorded_at",
      "desc=false",
      "device_id=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
      "flight_id=x",
      "from=2026-11-01",
      "to=2026-11-01",
      "fields=roll_degrees",
    ]
  ) {
    assertNotEquals(canonicalQuery(ok(query)), base, query);
  }
  assertNotEquals(canonicalQuery(ok("from=2026-11-01")), canonicalQuery(ok("to=2026-11-01")));
});

Deno.test("columnsOf() reads every column without fields, else the fixed ones, the order and those asked", () => {
  assertEquals(columnsOf(ok("")), null);
  assertEquals(
    columnsOf(ok("fields=roll_degrees,recorded_at,extra&order_by=recorded_at")),
    [...ALWAYS_SELECTED, "roll_degrees", "extra"],
  );
  assertEquals(
    columnsOf(ok(`fields=extra&order_by=pitch_degrees&${WINDOW}`)),
    [...ALWAYS_SELECTED, "pitch_degrees", "extra"],
  );
});

const WINDOW = "from=2026-11-01T00:00:00Z&to=2026-11-01T00:10:00Z";

Deno.test("parseTelemetryQuery() accepts a field order with or without a window (the database bounds its scope)", () => {
  assertEquals(ok("order_by=roll_degrees").order_by, "roll_degrees");
  assertEquals(ok("order_by=roll_degrees&flight_id=f1").flight_id, "f1");
  assertEquals(ok(`order_by=roll_degrees&${WINDOW}`).order_by, "roll_degrees");
  assertEquals(ok("order_by=recorded_at").order_by, "recorded_at");
});

Deno.test("parseTelemetryQuery() takes a cursor of the same order, without offset", () => {
  const cursor = encodeCursor({
    order_by: "recorded_at",
    desc: true,
    value: "2026-11-01 00:00:00+00",
    recorded_at: "2026-11-01T00:00:00+00:00",
    device_id: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  });
  assertEquals(
    ok(`order_by=recorded_at&cursor=${cursor}`).cursor?.device_id,
    "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  );
  assertEquals(problems(`order_by=recorded_at&cursor=${cursor}&offset=5`), ["offset"]);
  assertEquals(problems(`cursor=${cursor}`), ["cursor"]);
  assertEquals(problems(`order_by=recorded_at&desc=false&cursor=${cursor}`), ["cursor"]);
  assertEquals(problems("cursor=bm90LWEtY3Vyc29y"), ["cursor"]);
  assertEquals(problems("cursor=%25%25"), ["cursor"]);
});

Deno.test("parseTelemetryQuery() names format when it is not json, csv or ndjson", () => {
  assertEquals(ok("format=ndjson").format, "ndjson");
  assertEquals(problems("format=xml"), ["format"]);
});

Deno.test("inFrameOrder() puts column names in the table's order, unknown ones last", () => {
  assertEquals(
    inFrameOrder(["extra", "roll_degrees", "zzz", "id", "armed", "recorded_at"]),
    ["id", "recorded_at", "armed", "roll_degrees", "extra", "zzz"],
  );
});
