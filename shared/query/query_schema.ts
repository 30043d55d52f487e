/**
 * The query string of telemetry-query, checked with zod: paging (`limit`, `offset`), ordering
 * (`order_by`, `desc`), filters (`device_id`, `flight_id`, `from`, `to`) and a projection
 * (`fields`). The reference API's names and defaults are kept (limit 100, offset 0, order_by
 * created_at, desc true). Every problem names its parameter, so the client is told what to fix.
 *
 * @module
 */
import { z } from "zod";
import { FIELD_NAMES, isFieldName } from "../catalogue/catalogue.ts";
import { type CursorPosition, decodeCursor } from "./query_cursor.ts";
import { isSafeText, MAX_FLIGHT_ID_LENGTH } from "../catalogue/frame_schema.ts";

/** Columns every projection includes: a frame is meaningless without them. */
export const ALWAYS_SELECTED = [
  "id",
  "device_id",
  "flight_id",
  "recorded_at",
  "created_at",
] as const;

/** Columns besides the catalogue's that `fields` may name (the ingest metadata). */
export const METADATA_COLUMNS = ["raw_data", "parser_version", "data_source", "extra"] as const;

/** Every column of a frame, in the table's order. */
export const FRAME_COLUMNS: readonly string[] = [
  ...ALWAYS_SELECTED,
  ...FIELD_NAMES,
  ...METADATA_COLUMNS,
];

/**
 * Column names in the table's order (unknown names last, as given). A projected page's frames
 * come from Postgres with their keys in jsonb's order (see read_telemetry_page); a CSV header is
 * written in the table's.
 */
export function inFrameOrder(names: readonly string[]): string[] {
  const rank = (name: string) => {
    const index = FRAME_COLUMNS.indexOf(name);
    return index === -1 ? FRAME_COLUMNS.length : index;
  };
  return [...names].sort((a, b) => rank(a) - rank(b));
}

/** Columns `order_by` accepts: the catalogue's, plus the two times. */
export const ORDER_COLUMNS: readonly string[] = ["created_at", "recorded_at", ...FIELD_NAMES];

/**
 * Orders an index serves for any history (created_at by (device_id, created_at, recorded_at),
 * recorded_at by the dedup key). Any other order (a telemetry field) sorts every frame in the
 * query's scope, so read_telemetry_page allows it only when that scope is bounded: its frames,
 * estimated from flights or the daily rollups plus staged frames, at most the database's
 * `field_order_max_frames` setting (200,000 by default); else a 400 naming the cap, the estimate
 * and how to narrow the scope (flight_id, from/to). The database holds the rule because it has
 * the rollups and because PostgREST serves the function directly too.
 */
export const INDEXED_ORDERS: readonly string[] = ["created_at", "recorded_at"];

/** Output formats: a JSON page, or a whole result streamed as CSV or NDJSON. */
export const FORMATS = ["json", "csv", "ndjson"] as const;

/** Largest page. PostgREST's db-max-rows is the same, so a page is never cut short silently. */
export const MAX_LIMIT = 1000;

/**
 * Deepest `offset`: it reads and skips every frame before the page, so past this the keyset
 * `cursor` is the way on. read_telemetry_page refuses more too (PostgREST serves it directly).
 */
export const MAX_OFFSET = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Date, or date-time with optional seconds, fraction (to microseconds) and offset.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

const integer = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    ctx.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max}` });
    return z.NEVER;
  });

/**
 * Checks an ISO 8601 date or date-time and returns it with an explicit offset, keeping its
 * precision (Postgres parses it, to the microsecond). A date-time without an offset is UTC, as
 * Postgres reads it on Supabase. A '+' of the offset that arrived unencoded (decoded as a space)
 * is put back.
 */
export function normaliseTimestamp(input: string): string | null {
  const text = input.replace(/^(\S+T[\d:.]+) (\d{2}(?::?\d{2})?)$/, "$1+$2");
  const match = ISO_8601.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match.map(Number);
  const date = new Date(Date.UTC(year!, month! - 1, day!));
  const validDay = date.getUTCFullYear() === year && date.getUTCMonth() === month! - 1 &&
    date.getUTCDate() === day;
  const validTime = match[4] === undefined ||
    (hour! <= 23 && minute! <= 59 && (match[6] === undefined || second! <= 59));
  const zone = match[7];
  const validZone = zone === undefined || zone.toUpperCase() === "Z" ||
    (Number(zone.slice(1, 3)) <= 14 && Number(zone.slice(-2)) <= 59);
  if (!validDay || !validTime || !validZone) return null;
  if (match[4] === undefined) return `${text}T00:00:00Z`;
  if (zone === undefined) return `${text}Z`;
  if (zone.toUpperCase() === "Z") return `${text.slice(0, -1)}Z`;
  // Postgres and Date.parse both want ±hh:mm.
  const hhmm = zone.length === 3 ? `${zone}:00` : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  return text.slice(0, -zone.length) + hhmm;
}

const timestamp = z.string().transform((text, ctx) => {
  const value = normaliseTimestamp(text);
  if (value !== null) return value;
  ctx.addIssue({
    code: "custom",
    message: "must be an ISO 8601 date or date-time, e.g. 2026-11-26T10:00:00Z",
  });
  return z.NEVER;
});

const FIELDS_ACCEPTED: ReadonlySet<string> = new Set([...ALWAYS_SELECTED, ...METADATA_COLUMNS]);

const fieldList = z.string().max(4096).transform((text, ctx) => {
  const names = [...new Set(text.split(",").map((name) => name.trim()).filter(Boolean))];
  const unknown = names.filter((name) => !isFieldName(name) && !FIELDS_ACCEPTED.has(name));
  if (names.length === 0) {
    ctx.addIssue({ code: "custom", message: "must list at least one column, comma-separated" });
  } else if (unknown.length > 0) {
    ctx.addIssue({
      code: "custom",
      message: `names unknown column${unknown.length > 1 ? "s" : ""} ${
        unknown.map((name) => `"${name}"`).join(", ")
      }; use telemetry field names (GET /config)`,
    });
  }
  return names;
});

/** The query string of telemetry-query, all values as strings. */
export const telemetryQuerySchema = z.strictObject({
  limit: integer(1, MAX_LIMIT).default(100),
  offset: z.string().transform((text, ctx) => {
    const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (Number.isInteger(value) && value <= MAX_OFFSET) return value;
    ctx.addIssue({
      code: "custom",
      message: Number.isInteger(value)
        ? `must be at most ${MAX_OFFSET}; page on with next_cursor (cursor) instead`
        : `must be an integer from 0 to ${MAX_OFFSET}`,
    });
    return z.NEVER;
  }).default(0),
  order_by: z.string().refine((name) => ORDER_COLUMNS.includes(name), {
    message: "must be created_at, recorded_at or a telemetry field name (GET /config)",
  }).default("created_at"),
  desc: z.string().regex(/^(true|false|1|0)$/i, { message: "must be true or false" })
    .transform((text) => /^(true|1)$/i.test(text)).default(true),
  device_id: z.string().regex(UUID, { message: "must be a UUID" })
    .transform((text) => text.toLowerCase()).optional(),
  flight_id: z.string().min(1, { message: "must not be empty" })
    .max(MAX_FLIGHT_ID_LENGTH, { message: `must be at most ${MAX_FLIGHT_ID_LENGTH} characters` })
    .refine(isSafeText, { message: "must not hold control characters" }).optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
  fields: fieldList.optional(),
  cursor: z.string().max(1024).transform((text, ctx): CursorPosition => {
    const position = decodeCursor(text);
    if (position) return position;
    ctx.addIssue({ code: "custom", message: "must be a next_cursor this API returned" });
    return z.NEVER;
  }).optional(),
  format: z.enum(FORMATS, { message: "must be json, csv or ndjson" }).default("json"),
}).superRefine((query, ctx) => {
  if (query.from && query.to && Date.parse(query.from) > Date.parse(query.to)) {
    ctx.addIssue({ code: "custom", path: ["from"], message: "must not be after to" });
  }
  if (query.cursor) {
    if (query.offset !== 0) {
      ctx.addIssue({ code: "custom", path: ["offset"], message: "must be 0 with a cursor" });
    }
    if (query.cursor.order_by !== query.order_by || query.cursor.desc !== query.desc) {
      ctx.addIssue({
        code: "custom",
        path: ["cursor"],
        message: "belongs to another order; pass the same order_by and desc as the first page",
      });
    }
  }
});

/** A checked telemetry query, defaults filled in. */
export type TelemetryQuery = z.output<typeof telemetryQuerySchema>;

/** One bad parameter, for `error.details`. */
export interface ParameterProblem {
  parameter: string;
  message: string;
}

export type QueryParseResult =
  | { success: true; query: TelemetryQuery }
  | { success: false; problems: ParameterProblem[] };

const KNOWN = Object.keys(telemetryQuerySchema.shape);

function showValue(value: string | undefined): string {
  if (value === undefined) return "";
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return `, got "${shown}"`;
}

/** Checks a URL's query string. Never throws: every problem is returned, naming its parameter. */
export function parseTelemetryQuery(params: URLSearchParams): QueryParseResult {
  const raw: Record<string, string> = {};
  const problems: ParameterProblem[] = [];
  for (const [name, value] of params) {
    if (Object.hasOwn(raw, name)) {
      if (!problems.some((problem) => problem.parameter === name)) {
        problems.push({ parameter: name, message: "must be given at most once" });
      }
    } else {
      raw[name] = value;
    }
  }
  const parsed = telemetryQuerySchema.safeParse(raw);
  if (parsed.success && problems.length === 0) return { success: true, query: parsed.data };
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const name of issue.keys) {
        problems.push({
          parameter: name,
          message: `is not a known parameter; use ${KNOWN.join(", ")}`,
        });
      }
      continue;
    }
    const parameter = String(issue.path[0] ?? "query");
    // A repeated parameter is reported as such; its first value's problems would only confuse.
    if (problems.some((problem) => problem.parameter === parameter)) continue;
    problems.push({ parameter, message: `${issue.message}${showValue(raw[parameter])}` });
  }
  return { success: false, problems };
}

/**
 * The query in one canonical text, so that equal queries hash alike: defaults filled in, the
 * projection sorted. Different spellings of one instant only cost a cache miss.
 */
export function canonicalQuery(query: TelemetryQuery): string {
  return JSON.stringify([
    query.limit,
    query.offset,
    query.order_by,
    query.desc,
    query.device_id ?? null,
    query.flight_id ?? null,
    query.from ?? null,
    query.to ?? null,
    query.fields ? [...query.fields].sort() : null,
    query.cursor ?? null,
  ]);
}

/**
 * The columns to read: null for all, else the always-selected ones, the order column (the next
 * page's cursor is made from it) and those asked for.
 */
export function columnsOf(query: TelemetryQuery): string[] | null {
  if (!query.fields) return null;
  return [...new Set([...ALWAYS_SELECTED, query.order_by, ...query.fields])];
}
