/**
 * Reads pages of public.telemetry_frames (telemetry ∪ staging, deduplicated) through
 * public.read_telemetry_page, called through PostgREST with the caller's client, so RLS decides
 * which frames are visible. The function reads each page in O(limit) (keyset cursor, indexes
 * for the unbounded orders, a count capped at COUNT_CAP); see its migration. On a read replica
 * it is called with GET (`viaGet`), as public.read_telemetry_page_get: PostgREST runs a POST to a
 * volatile function in a read-write transaction, which a standby refuses, and a GET in a
 * read-only one.
 */
import { type Db, queryArgs, toDbError } from "../../../shared/platform/db.ts";
import { HttpError } from "../../../shared/platform/http.ts";
import { type CursorPosition, encodeCursor } from "../../../shared/query/query_cursor.ts";
import { columnsOf, type TelemetryQuery } from "../../../shared/query/query_schema.ts";

/** How `count` was computed: counted exactly, or estimated past COUNT_CAP. */
export type CountMethod = "exact" | "estimated";

/** Frames are counted exactly up to this many; beyond, the count is estimated. */
export const COUNT_CAP = 1000;

export interface FramesPage {
  data: Record<string, unknown>[];
  count: number | null;
  "count_method": CountMethod | null;
  /** The cursor of the next page; null on the last page. */
  "next_cursor": string | null;
}

/** The hint read_telemetry_page gives a field order whose scope is past the cap. */
const SCOPE_HINT = "field_order_scope";

/**
 * The 400 for a field order over too many frames: the database's message (the cap, the
 * estimate, how to narrow), and its figures as details.
 */
function scopeTooLarge(error: { message: string; details?: string | null }): HttpError {
  let figures: Record<string, unknown> = {};
  try {
    figures = JSON.parse(error.details ?? "{}");
  } catch {
    // the message carries the same figures
  }
  return new HttpError(400, "scope_too_large", error.message, [
    { parameter: "order_by", message: error.message, ...figures },
  ]);
}

interface PageResult {
  data: Record<string, unknown>[];
  next: [string | null, string, string] | null;
  count: number | null;
  "count_method": CountMethod | null;
}

/** How a page is read: counted or not, its size, where it starts, and over GET or POST. */
export interface ReadOptions {
  count: boolean;
  limit?: number;
  /** Where to start instead of the query's own cursor (streaming). */
  after?: CursorPosition;
  /** Call with GET (a read-only transaction), as a read replica needs. */
  viaGet?: boolean;
}

/**
 * One page of frames in the query's order, then (recorded_at, device_id), the view's dedup key,
 * so pages never overlap or skip. Frames that lack the ordering column come last either way.
 * @throws {DbError} when PostgREST refuses or cannot be reached
 */
export async function readFrames(
  db: Db,
  query: TelemetryQuery,
  options: ReadOptions = { count: true },
): Promise<FramesPage> {
  const after = options.after ?? query.cursor;
  const position = after ? [after.value, after.recorded_at, after.device_id] : null;
  let result;
  try {
    const args = {
      "p_device_id": query.device_id ?? null,
      "p_flight_id": query.flight_id ?? null,
      "p_from": query.from ?? null,
      "p_to": query.to ?? null,
      "p_order_by": query.order_by,
      "p_desc": query.desc,
      "p_limit": options.limit ?? query.limit,
      "p_offset": options.after ? 0 : query.offset,
      // As JSON text in a query string (read_telemetry_page_get), a JSON array in a POST body.
      "p_after": options.viaGet && position ? JSON.stringify(position) : position,
      "p_columns": columnsOf(query),
      "p_count_cap": options.count ? COUNT_CAP : 0,
    };
    result = await (options.viaGet
      ? db.rpc("read_telemetry_page_get", queryArgs(args), { get: true })
      : db.rpc("read_telemetry_page", args));
  } catch (error) {
    throw toDbError(error);
  }
  if (result.error) {
    if (result.error.hint === SCOPE_HINT) throw scopeTooLarge(result.error);
    throw toDbError(result.error, result.status);
  }
  const page = result.data as PageResult;
  const next = page.next;
  return {
    data: page.data,
    count: page.count,
    count_method: page.count_method,
    next_cursor: next
      ? encodeCursor({
        order_by: query.order_by,
        desc: query.desc,
        value: next[0],
        recorded_at: next[1],
        device_id: next[2],
      })
      : null,
  };
}
