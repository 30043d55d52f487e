/**
 * Staged frames as Postgres reads them fastest: an array literal of the composite type
 * telemetry.frame_values, whose columns are telemetry's in table order (without id, device_id and
 * created_at). The flush and public.telemetry_frames unpack it with
 * unnest(frames::telemetry.frame_values[]), which runs each column's input function the way COPY
 * does, instead of looking every key up in a JSON object.
 */
import { FIELDS } from "../catalogue/catalogue.ts";
import type { TelemetryRow } from "../catalogue/frame_schema.ts";

/** The attributes of telemetry.frame_values, in order (tests compare them with the database). */
export const FRAME_VALUE_COLUMNS: readonly string[] = [
  "flight_id",
  "recorded_at",
  ...FIELDS.map((field) => field.name),
  "raw_data",
  "parser_version",
  "data_source",
  "extra",
];

/**
 * A text value as it stands inside a quoted composite that is itself quoted as an array element:
 * both levels of quoting at once (`\` becomes four backslashes, `"` becomes `\\\"`), so the
 * whole literal is not escaped a second time (measured: raw_data, a JSON line full of quotes, made
 * the second pass most of the encoding's cost).
 */
function quotedTwice(text: string): string {
  return `\\"${text.replaceAll("\\", "\\\\\\\\").replaceAll('"', '\\\\\\"')}\\"`;
}

function field(value: unknown): string {
  if (value === undefined || value === null) return ""; // NULL
  if (typeof value === "boolean") return value ? "t" : "f";
  // Numbers arrive as their column stores them (storableValue in frame_schema.ts turned an
  // underflow of real into 0), and every catalogue range fits its type, so the cast never refuses
  // one (tests/integration/parser_postgres_agreement_test.ts).
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return quotedTwice(value);
  return quotedTwice(JSON.stringify(value)); // extra: jsonb
}

const COLUMN_POSITION = new Map(FRAME_VALUE_COLUMNS.map((column, i) => [column, i]));
const ALL_NULL: readonly string[] = FRAME_VALUE_COLUMNS.map(() => "");

/** One row's element of the array literal: its composite, quoted. */
function element(row: TelemetryRow): string {
  const values = ALL_NULL.slice();
  for (const column in row) {
    const position = COLUMN_POSITION.get(column);
    if (position !== undefined) values[position] = field(row[column as keyof TelemetryRow]);
  }
  return `"(${values.join(",")})"`;
}

/**
 * The telemetry.frame_values[] literal of these rows. A row holds a few of the 86 columns, so
 * each row's values start all NULL and only its own keys are written: walking every column for
 * every row cost most of this function (measured with deno --cpu-prof).
 */
export function encodeFrameValues(rows: readonly TelemetryRow[]): string {
  return `{${rows.map(element).join(",")}}`;
}

/** Text gathered before it is encoded to a UTF-8 piece: large enough that pieces are few. */
const PIECE_CHARS = 256 * 1024;

/**
 * Writes the literal as rows come, as UTF-8 pieces of about PIECE_CHARS, so that a large body's
 * rows can be let go as soon as they are parsed: only the literal's bytes stay (about 1.5 times
 * the body for NDJSON, whose raw_data is quoted twice), never all its row objects (about 3 times).
 */
export interface FrameValuesWriter {
  add(rows: readonly TelemetryRow[]): void;
  readonly count: number;
  /** The literal's UTF-8 pieces, in order (their concatenation is encodeFrameValues' text). */
  finish(): Uint8Array[];
}

export function createFrameValuesWriter(): FrameValuesWriter {
  const utf8 = new TextEncoder();
  const pieces: Uint8Array[] = [];
  let text = "{";
  let count = 0;
  return {
    add(rows) {
      for (const row of rows) {
        text += (count++ === 0 ? "" : ",") + element(row);
        if (text.length >= PIECE_CHARS) {
          pieces.push(utf8.encode(text));
          text = "";
        }
      }
    },
    get count() {
      return count;
    },
    finish() {
      pieces.push(utf8.encode(text + "}"));
      text = "";
      return pieces;
    },
  };
}
