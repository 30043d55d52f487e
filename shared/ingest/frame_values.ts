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

const RAW_DATA_POSITION = COLUMN_POSITION.get("raw_data")!;
// A row's values before and after raw_data, as field() writes them; scratch shared by every
// call (rowValues never runs inside itself).
const BEFORE_RAW: string[] = ALL_NULL.slice(0, RAW_DATA_POSITION);
const AFTER_RAW: string[] = ALL_NULL.slice(RAW_DATA_POSITION + 1);

/**
 * Fills BEFORE_RAW and AFTER_RAW with the row's values (NULL where it has none) and returns its
 * raw_data, which the writer quotes straight into bytes. A row holds a few of the 86 columns, so
 * only its own keys are written: walking every column for every row cost most of the encoding
 * (measured with deno --cpu-prof).
 */
function rowValues(row: TelemetryRow): unknown {
  BEFORE_RAW.fill("");
  AFTER_RAW.fill("");
  let raw: unknown;
  for (const column in row) {
    const position = COLUMN_POSITION.get(column);
    if (position === undefined) continue;
    const value = row[column as keyof TelemetryRow];
    if (position < RAW_DATA_POSITION) BEFORE_RAW[position] = field(value);
    else if (position > RAW_DATA_POSITION) {
      AFTER_RAW[position - RAW_DATA_POSITION - 1] = field(value);
    } else raw = value;
  }
  return raw;
}

/** One row's element of the array literal: its composite, quoted. */
function element(row: TelemetryRow): string {
  const raw = field(rowValues(row));
  return `"(${BEFORE_RAW.join(",")},${raw},${AFTER_RAW.join(",")})"`;
}

/** The telemetry.frame_values[] literal of these rows, as text. */
export function encodeFrameValues(rows: readonly TelemetryRow[]): string {
  return `{${rows.map(element).join(",")}}`;
}

/**
 * The sizes of the pieces: the first small, as a stream's chunk of a second holds about 60 kB,
 * then doubling up to a size at which pieces are few. (A first piece of 256 KiB for every
 * chunk made a stream's V8 collect garbage for 41% of its CPU, 31% with this: V8 counts such
 * buffers against its heap.)
 */
const FIRST_PIECE_BYTES = 16 * 1024;
const PIECE_BYTES = 256 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Writes the literal as rows come, as UTF-8 pieces (see PIECE_BYTES), so that a large body's rows
 * can be let go as soon as they are parsed: only the literal's bytes stay (about 1.5 times the
 * body for NDJSON, whose raw_data is quoted twice), never all its row objects (about 3 times).
 *
 * raw_data, the longest value of a row, is quoted byte by byte into the piece: quoting it as a
 * string (replaceAll) made 12 KiB of garbage per 80-field frame, a third of all the frame made,
 * and took longer than the rest of the row.
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
  let piece = new Uint8Array(FIRST_PIECE_BYTES);
  let at = 0;
  let scratch = new Uint8Array(4096);
  let count = 0;

  /** Ends the current piece; the next holds at least `bytes`. */
  const nextPiece = (bytes: number) => {
    if (at > 0) pieces.push(piece.subarray(0, at));
    piece = new Uint8Array(Math.max(Math.min(piece.length * 2, PIECE_BYTES), bytes));
    at = 0;
  };
  const writeText = (text: string) => {
    let rest = text;
    for (;;) {
      const { read, written } = utf8.encodeInto(rest, piece.subarray(at));
      at += written;
      if (read === rest.length) return;
      rest = rest.slice(read);
      nextPiece(rest.length * 3);
    }
  };
  /** `text` as quotedTwice writes it, straight from its UTF-8. */
  const writeQuotedTwice = (text: string) => {
    if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
    const { written } = utf8.encodeInto(text, scratch);
    // Each byte takes at most 4 (a backslash), plus the two quotes around it (2 bytes each).
    if (piece.length - at < written * 4 + 6) nextPiece(written * 4 + 6);
    const out = piece;
    let to = at;
    out[to++] = BACKSLASH;
    out[to++] = QUOTE;
    for (let i = 0; i < written; i++) {
      const byte = scratch[i]!;
      if (byte === BACKSLASH) {
        out[to++] = BACKSLASH;
        out[to++] = BACKSLASH;
        out[to++] = BACKSLASH;
        out[to++] = BACKSLASH;
      } else if (byte === QUOTE) {
        out[to++] = BACKSLASH;
        out[to++] = BACKSLASH;
        out[to++] = BACKSLASH;
        out[to++] = QUOTE;
      } else out[to++] = byte;
    }
    out[to++] = BACKSLASH;
    out[to++] = QUOTE;
    at = to;
  };

  writeText("{");
  return {
    add(rows) {
      for (const row of rows) {
        const raw = rowValues(row);
        writeText(`${count++ === 0 ? "" : ","}"(${BEFORE_RAW.join(",")},`);
        if (typeof raw === "string") writeQuotedTwice(raw);
        else writeText(field(raw));
        writeText(`,${AFTER_RAW.join(",")})"`);
      }
    },
    get count() {
      return count;
    },
    finish() {
      writeText("}");
      pieces.push(piece.subarray(0, at));
      piece = new Uint8Array(0);
      at = 0;
      return pieces;
    },
  };
}
