/**
 * Parser and Postgres agree (issue 21 §1): every value the parser accepts, Postgres accepts in its
 * column. Generated values (seeded, so a failure replays) go through the real parser, the literal
 * telemetry-parse stages (encodeFrameValues) and the cast and insert the flush runs, in the
 * stack's database, into a copy of telemetry with its CHECK constraints. A value Postgres would
 * refuse as sent (e.g. `roll:1e-50`, out of range for real) must be rejected by the parser with
 * a reason naming its field, or stored normalised (0 for a number below the column type's
 * smallest normal, as documented in README); an accepted number must read back as Postgres
 * reads the value as sent.
 *
 * Set PROPERTY_SEED to replay another run; the seed in use is in each failure message.
 */
import { assert, assertEquals } from "@std/assert";
import { FIELDS } from "../../shared/catalogue/catalogue.ts";
import { parseLine } from "../../shared/ingest/parser.ts";
import { encodeFrameValues, FRAME_VALUE_COLUMNS } from "../../shared/ingest/frame_values.ts";
import { sql } from "./_helpers.ts";
import { seededRandom } from "../../scripts/simulator/flight.ts";

const SEED = Number(Deno.env.get("PROPERTY_SEED") ?? "20261204");
const CASES = 2500;
const RECEIVED = new Date();

const random = seededRandom(SEED);
const int = (n: number) => Math.floor(random() * n);
function pick<T>(items: readonly T[]): T {
  const item = items[int(items.length)];
  if (item === undefined) throw new RangeError("pick from an empty list");
  return item;
}

/** Number notations Postgres and JavaScript read differently, and the edges of each type. */
const NUMBER_EDGES = [
  "NaN",
  "nan",
  "-NaN",
  "Infinity",
  "-Infinity",
  "inf",
  "-inf",
  "+Inf",
  "infinity",
  "1e999",
  "-1e999",
  "1e309",
  "0x10",
  "1_000",
  "1,5",
  "∞",
  "-0",
  "+0",
  "-0.0",
  "0e-999",
  "1e-50",
  "-1e-46",
  "7e-46",
  "1.4e-45",
  "1e-45",
  "1e-40",
  "1.1754943508222875e-38",
  "1.1754942e-38",
  "3.4e38",
  "3.5e38",
  "5e-324",
  "2e-308",
  "2.2250738585072014e-308",
  "1e-400",
  "2147483647",
  "2147483648",
  "-2147483649",
  "32767",
  "32768",
  "-32769",
  "9007199254740993",
  "1e21",
  "1.5",
  "1500.0",
  "1e2",
  ".5",
  "5.",
  "00012",
  "1e+2",
  "1E-2",
];

/** A decimal with a random mantissa and an exponent anywhere from 1e-400 to 1e400. */
function randomDecimal(): string {
  const sign = pick(["", "-", "+"]);
  const digits = String(int(1_000_000_000)).padStart(1 + int(9), "0");
  const point = int(digits.length + 1);
  const mantissa = `${digits.slice(0, point)}.${digits.slice(point)}`.replace(/\.$/, "");
  return `${sign}${mantissa}e${int(801) - 400}`;
}

function numberText(min: number, max: number): string {
  switch (int(4)) {
    case 0:
      return pick(NUMBER_EDGES);
    case 1:
      return randomDecimal();
    case 2: // near the catalogue bounds
      return String(pick([min, max]) + pick([-1, 0, 1]) * pick([1, 1e-7, 0.5]));
    default:
      return String(min + random() * (max - min));
  }
}

/** Characters that break literals, lengths or encodings: quotes, separators, NUL, surrogates. */
const AWKWARD = [
  '"',
  "\\",
  ",",
  "(",
  ")",
  "{",
  "}",
  "'",
  " ",
  "\t",
  "\u0000",
  "\u0001",
  "\u007f",
  "é",
  "ß",
  "日",
  "😀",
  "\ud800",
  "\udfff",
  "\u00a0",
  "\u2028",
  "\ufeff",
  "NULL",
  "=",
  ":",
];

function textValue(maxLength: number): string {
  const length = pick([1, 2, maxLength - 1, maxLength, maxLength + 1, int(maxLength * 2) + 1]);
  let text = "";
  while (text.length < length) {
    text += int(3) === 0 ? pick(AWKWARD) : String.fromCharCode(0x21 + int(0x5d));
  }
  return text;
}

const TIMESTAMP_EDGES = [
  "0001-01-01T00:00:00Z",
  "1970-01-01T00:00:00Z",
  "1999-12-31T23:59:59.999999Z",
  "2000-01-01T00:00:00Z",
  "9999-12-31T23:59:59Z",
  "294276-12-31T23:59:59Z",
  "infinity",
  "-infinity",
  "epoch",
  "now",
  "today",
  "4714-11-24 00:00:00 BC",
  "2024-02-30T00:00:00Z",
  "2024-01-01T24:00:00Z",
  "0",
  "-1",
  "99999999999",
  "1e10",
  "100000000000000000",
  "2024-05-01T12:00:00+14:00",
  "2024-05-01T12:00:00-23:59",
  "2024-05-01 12:00",
];

function timestampValue(): string | number {
  switch (int(4)) {
    case 0:
      return pick(TIMESTAMP_EDGES);
    case 1: // epoch seconds, milliseconds or microseconds around now
      return Math.floor(RECEIVED.getTime() / 1000) * pick([1, 1000, 1_000_000]) +
        int(100_000) - 50_000;
    case 2:
      return new Date(Date.UTC(1 + int(12000), int(12), 1 + int(28))).toISOString();
    default:
      return new Date(RECEIVED.getTime() - int(10 * 365 * 86_400_000)).toISOString();
  }
}

/** One generated case: a key, the value as sent, and the Postgres type it is stored as. */
interface Case {
  readonly key: string;
  readonly column: string;
  readonly sqlType: string;
  readonly value: string | number;
}

function generateCase(): Case {
  const choice = int(FIELDS.length + 4);
  const spec = FIELDS[choice];
  if (spec !== undefined) {
    const value = spec.kind === "text"
      ? textValue(spec.maxLength)
      : spec.kind === "boolean"
      ? pick(["1", "0", "true", "no", "t", "f", "on", "2", "yes", "TRUE"])
      : numberText(spec.min, spec.max);
    return { key: spec.name, column: spec.name, sqlType: spec.sqlType, value };
  }
  if (choice === FIELDS.length) {
    return { key: "ts", column: "recorded_at", sqlType: "timestamptz", value: timestampValue() };
  }
  if (choice === FIELDS.length + 1) {
    return { key: "flight_id", column: "flight_id", sqlType: "text", value: textValue(64) };
  }
  // An unknown key, kept in extra (jsonb).
  const value = int(2) === 0 ? numberText(-1e308, 1e308) : textValue(256);
  return { key: "note", column: "extra", sqlType: "jsonb", value };
}

/**
 * The case as a body line: key:value text, or an NDJSON object with the value unquoted when
 * numeric. A metadata key gets an altitude beside it, since a frame needs a telemetry value.
 */
function lineOf(item: Case, json: boolean): string {
  const metadata = item.column === "recorded_at" || item.column === "flight_id";
  // A comma ends a key:value pair, so key:value text cannot carry one.
  const kvValue = String(item.value).replaceAll(",", ";");
  if (!json) return `${item.key}:${kvValue}${metadata ? ",alt:1" : ""}`;
  const text = String(item.value);
  const bare = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text);
  return `{"${item.key}":${bare ? text : JSON.stringify(text)}${metadata ? ',"alt":1' : ""}}`;
}

/** SQL string literal (standard_conforming_strings is on). */
const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;

interface Outcome {
  n: number;
  /** Why the staged literal could not be cast and inserted, or null. */
  storedError: string | null;
  /** Whether Postgres reads the value as sent as its column's type. */
  rawOk: boolean;
  /** The stored column as text, and the value as sent read by Postgres (numbers only). */
  stored: string | null;
  raw: string | null;
}

/** Runs every case through the cast and insert the flush runs, in one psql call. */
async function castInPostgres(
  cases: readonly { n: number; item: Case; literal: string | null }[],
): Promise<Outcome[]> {
  const columns = FRAME_VALUE_COLUMNS.map((c) => `"${c}"`).join(", ");
  const rows = cases.map(({ n, item, literal }) =>
    `(${n}, ${quote(item.column)}, ${quote(item.sqlType)}, ${
      quote(String(item.value).replaceAll("\u0000", ""))
    }, ${String(item.value).includes("\u0000")}, ${literal === null ? "null" : quote(literal)})`
  );
  const output = await sql(`
    create temporary table cases (n integer, col text, sql_type text, raw text, has_nul boolean, lit text);
    insert into cases values ${rows.join(",\n")};
    create temporary table stored (like telemetry.telemetry including defaults including constraints including identity);
    create function pg_temp.store(p_literal text) returns text language plpgsql as $f$
    begin
      insert into pg_temp.stored (device_id, ${columns})
      select gen_random_uuid(), f.* from unnest(p_literal::telemetry.frame_values[]) as f;
      return null;
    exception when others then return sqlerrm;
    end $f$;
    create function pg_temp.read_as(p_raw text, p_type text) returns text language plpgsql as $f$
    declare v text;
    begin
      execute format('select (%L::%s)::text', p_raw, p_type) into v;
      return coalesce(v, '');
    exception when others then return null;
    end $f$;
    create function pg_temp.stored_value(p_literal text, p_column text) returns text
    language plpgsql as $f$
    declare v text;
    begin
      execute format('select (f.%I)::text from unnest($1::telemetry.frame_values[]) as f', p_column)
        into v using p_literal;
      return v;
    end $f$;
    select json_build_object('n', c.n, 'storedError', e.error,
      'rawOk', not c.has_nul and pg_temp.read_as(c.raw, c.sql_type) is not null,
      'stored', case when numeric and c.lit is not null and e.error is null
                 then pg_temp.stored_value(c.lit, c.col) end,
      'raw', case when numeric then pg_temp.read_as(c.raw, c.sql_type) end)
    from cases as c
    cross join lateral (select case when c.lit is null then null else pg_temp.store(c.lit) end as error) as e
    cross join lateral (select c.sql_type in ('real', 'double precision', 'integer', 'smallint') as numeric) as k
    order by c.n;`);
  return output.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

const SMALLEST_NORMAL: Readonly<Record<string, number>> = {
  real: 1.1754943508222875e-38,
  "double precision": 2.2250738585072014e-308,
};

Deno.test("parser and Postgres agree: every accepted value casts and inserts, every refused one is rejected or normalised", async () => {
  const cases = Array.from({ length: CASES }, (_, n) => {
    const item = generateCase();
    const json = int(2) === 0;
    const result = parseLine(lineOf(item, json), 1, {
      format: json ? "ndjson" : "kv",
      receivedAt: RECEIVED,
    });
    if (result === null) throw new Error(`Case ${n} made a blank line`);
    const literal = result.ok ? encodeFrameValues([result.frame.row]) : null;
    const reasons = result.ok ? [] : result.errors;
    return { n, item, json, literal, reasons, row: result.ok ? result.frame.row : null };
  });
  const outcomes = await castInPostgres(cases);
  assertEquals(outcomes.length, cases.length);

  let refusedAsSent = 0;
  let normalised = 0;
  for (const outcome of outcomes) {
    const c = cases[outcome.n];
    if (c === undefined) throw new Error(`No case ${outcome.n}`);
    const where = `seed ${SEED}, case ${c.n}: ${lineOf(c.item, c.json)}`;
    // Every accepted value casts and passes telemetry's constraints.
    assertEquals(outcome.storedError, null, where);
    if (!outcome.rawOk && c.item.column !== "extra") refusedAsSent++;
    if (c.literal === null) {
      // A refused line names the field it refuses (or the key it was sent as).
      assert(
        c.reasons.some((r) => r.key === c.item.column || r.key === c.item.key) ||
          c.reasons.some((r) => r.reason.includes(c.item.key)),
        `${where}: reasons ${JSON.stringify(c.reasons)} do not name the field`,
      );
      continue;
    }
    const accepted = c.row?.[c.item.column as keyof typeof c.row];
    if (outcome.stored !== null && typeof accepted === "number") {
      // Postgres stores the number the parser answered to the device (as parsed_data).
      const stored = Number(outcome.stored);
      const same = c.item.sqlType === "real"
        ? Math.fround(stored) === Math.fround(accepted)
        : stored === accepted;
      assert(same, `${where}: accepted ${accepted}, stored ${outcome.stored}`);
      // A number Postgres refuses as sent is accepted only normalised: 0 for one below the
      // type's smallest normal, or an integral decimal (1500.0, 1e2) for an integer column.
      if (!outcome.rawOk) {
        const integral = c.item.sqlType === "integer" || c.item.sqlType === "smallint";
        assert(stored === 0 || integral, `${where}: accepted a value Postgres refuses as sent`);
        if (stored === 0) normalised++;
      }
    }
    // An accepted number reads back as Postgres reads it as sent, but for the documented
    // normalisation (-0 and magnitudes below the type's smallest normal stored as 0).
    if (outcome.rawOk && outcome.stored !== null && outcome.raw !== null) {
      const smallest = SMALLEST_NORMAL[c.item.sqlType] ?? 0;
      const expected = Math.abs(Number(outcome.raw)) < smallest ? "0" : outcome.raw;
      assertEquals(outcome.stored.replace(/^-0$/, "0"), expected.replace(/^-0$/, "0"), where);
    }
  }
  // The generator reaches what matters: values Postgres refuses as sent, some stored as 0.
  assert(refusedAsSent > CASES / 10, `only ${refusedAsSent} values Postgres refuses as sent`);
  assert(normalised > 0, "no value was normalised");
});
