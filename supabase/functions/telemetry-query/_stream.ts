/**
 * `format=csv` and `format=ndjson`: every frame of the query (a whole flight, a time range),
 * streamed in the query's order. Pages of STREAM_PAGE frames are read one at a time with the
 * keyset cursor, each when the client has taken the previous one, so memory stays constant and a
 * slow client slows the reads instead of filling a buffer.
 */
import { type CursorPosition, decodeCursor } from "../../../shared/query/query_cursor.ts";
import { inFrameOrder, type TelemetryQuery } from "../../../shared/query/query_schema.ts";
import type { FramesPage, ReadOptions } from "./_frames.ts";

/** Reads one page of the query (readFrames on the primary or the replica). */
export type PageReader = (options: ReadOptions) => Promise<FramesPage>;

/** Frames per database read while streaming. */
export const STREAM_PAGE = 1000;

/**
 * Text a spreadsheet would read as a formula (or as the start of one): `=`, `+`, `-`, `@`, tab,
 * carriage return first. OWASP's "CSV Injection" advice: prefix such cells with `'`.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text value that
 * begins like a formula gets a leading `'`, so a spreadsheet opening the export shows it as text
 * instead of running it (a device chooses its `flight_id`, `flight_mode` and `raw_data`). Numbers
 * and booleans are written as they are: `-3.5` stays a number.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value === "string" && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The rows of one page as CSV lines or NDJSON lines; the CSV header comes before the first. */
export function formatRows(
  format: "csv" | "ndjson",
  rows: Record<string, unknown>[],
  header: string[] | null,
): string {
  if (format === "ndjson") return rows.map((row) => JSON.stringify(row) + "\n").join("");
  const columns = header ?? [];
  return rows.map((row) => columns.map((name) => csvField(row[name])).join(",") + "\r\n").join(
    "",
  );
}

/**
 * The first page of a stream, read before the answer starts so that a refusal (a field order
 * past the scope cap, a database error) is a proper status, not a cut-off 200.
 * @throws {HttpError|DbError} as readFrames
 */
export function readFirstPage(read: PageReader, query: TelemetryQuery): Promise<FramesPage> {
  return read(pageAfter(query.cursor));
}

function pageAfter(after: CursorPosition | undefined): ReadOptions {
  return { count: false, limit: STREAM_PAGE, ...(after ? { after } : {}) };
}

/**
 * The whole result of `query` as a byte stream, starting with `first` (from readFirstPage).
 * @param onError called when a read fails mid-stream (the stream is then cut short)
 */
export function streamFrames(
  read: PageReader,
  query: TelemetryQuery,
  format: "csv" | "ndjson",
  onError: (error: unknown) => void,
  first: FramesPage,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after = query.cursor;
  let header: string[] | null = null;
  let done = false;
  let pending: FramesPage | null = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return controller.close();
      try {
        const page = pending ?? await read(pageAfter(after));
        pending = null;
        let text = "";
        if (format === "csv" && header === null && page.data[0]) {
          header = inFrameOrder(Object.keys(page.data[0]));
          text = header.map(csvField).join(",") + "\r\n";
        }
        text += formatRows(format, page.data, header);
        if (text) controller.enqueue(encoder.encode(text));
        const next = page.next_cursor ? decodeCursor(page.next_cursor) : null;
        if (next) after = next;
        else done = true;
        if (done) controller.close();
      } catch (error) {
        onError(error);
        controller.error(error);
      }
    },
  }, { highWaterMark: 0 });
}
