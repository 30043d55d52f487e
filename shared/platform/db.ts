/**
 * Database access through PostgREST with supabase-js: a service client for device traffic and
 * a client per caller whose token PostgREST checks, so RLS decides what an operator sees.
 * RPC failures become DbError, marked transient when a retry may succeed.
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { Config } from "./config.ts";
import { HttpError } from "./http.ts";

export type Db = SupabaseClient;

const CLIENT_OPTIONS = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
} as const;

/**
 * A read replica's clients do not retry: supabase-js retries a failed GET for up to 7 s, while
 * a read the replica fails should go to the primary at once (shared/platform/replica.ts).
 */
const REPLICA_CLIENT_OPTIONS = { ...CLIENT_OPTIONS, db: { retry: false } } as const;

/**
 * A client acting as service_role (RLS bypassed): build it once per isolate.
 * @param url the API endpoint: the project's (default) or its read replica's
 */
export function createServiceClient(config: Config, url = config.supabaseUrl): Db {
  const options = url === config.supabaseUrl ? CLIENT_OPTIONS : REPLICA_CLIENT_OPTIONS;
  return createClient(url, config.serviceKey, options);
}

/**
 * A client acting as the caller: PostgREST verifies the token and applies RLS.
 * @param url the API endpoint: the project's (default) or its read replica's
 */
export function createCallerClient(config: Config, token: string, url = config.supabaseUrl): Db {
  const options = url === config.supabaseUrl ? CLIENT_OPTIONS : REPLICA_CLIENT_OPTIONS;
  return createClient(url, config.anonKey, {
    ...options,
    global: { headers: { Authorization: `Bearer ${token}` } },
  });
}

/** A failed database call; `transient` when retrying may succeed (connection, overload). */
export class DbError extends Error {
  override readonly name = "DbError";
  constructor(
    message: string,
    readonly code: string,
    readonly transient: boolean,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

// SQLSTATE classes and PostgREST codes that mean "the database was unreachable or busy".
const TRANSIENT_CODES = /^(08|53|57P0|40001|40P01|PGRST00[0-3])/;

interface PostgrestLikeError {
  message: string;
  code?: string;
  details?: string | null;
}

/** Turns a supabase-js error (or a thrown fetch error) into a DbError. */
export function toDbError(error: PostgrestLikeError | unknown, status = 0): DbError {
  if (error && typeof error === "object" && "message" in error) {
    const { message, code, details } = error as PostgrestLikeError;
    // A failed answer without a code is no error the database reported (those carry a SQLSTATE,
    // PostgREST's own a PGRST code): the connection broke under the call, e.g. a Postgres
    // restart ending it (seen by the fault suite as a 400 with empty code and message).
    const broken = status >= 400 && !code;
    const transient = status === 0 || status >= 502 || broken ||
      TRANSIENT_CODES.test(code ?? "");
    return new DbError(
      String(message || details || "database call failed"),
      code ?? "",
      transient,
      status,
    );
  }
  return new DbError(String(error), "", true, status);
}

/**
 * Calls a Postgres function through PostgREST and returns its result.
 * @throws {DbError} when the call fails
 */
export function callRpc<T>(
  db: Db,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  return rpcResult<T>(() => db.rpc(name, args));
}

/** A PostgREST call's data, or its failure as a DbError. */
async function rpcResult<T>(
  call: () => PromiseLike<{ data: unknown; error: unknown; status: number }>,
): Promise<T> {
  let result;
  try {
    result = await call();
  } catch (error) {
    throw toDbError(error);
  }
  if (result.error) throw toDbError(result.error, result.status);
  return result.data as T;
}

/**
 * Arguments as GET query parameters: nulls left out (the function's defaults are null), arrays
 * kept (supabase-js writes them as Postgres array literals), objects as JSON text.
 */
export function queryArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    if (value === null || value === undefined) continue;
    out[name] = typeof value === "object" && !Array.isArray(value) ? JSON.stringify(value) : value;
  }
  return out;
}

/**
 * Calls a Postgres function with GET, which PostgREST runs in a READ ONLY transaction: the way
 * to call a function on a read replica, where a POST's read-write transaction is refused.
 * @throws {DbError} when the call fails
 */
export function callRpcRead<T>(
  db: Db,
  name: string,
  args: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<T> {
  return rpcResult<T>(() => {
    const call = db.rpc(name, queryArgs(args), { get: true });
    return signal ? call.abortSignal(signal) : call;
  });
}

/** Where and as whom raw-body RPC calls go: the project URL and the service key. */
export interface RpcTarget {
  supabaseUrl: string;
  serviceKey: string;
}

/** UTF-8 pieces sent one after another as one body, without joining them into a copy. */
function streamOf(pieces: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[next++];
      if (piece === undefined) controller.close();
      else controller.enqueue(piece);
    },
  });
}

/**
 * Calls a Postgres function that takes a single unnamed `text` parameter, sending `body` as the
 * raw request body. PostgREST passes such a body through as the argument without parsing it,
 * which is what makes a large group of frames cheap to hand over (supabase-js `rpc` always sends
 * a JSON object of named arguments, which PostgREST parses and Postgres parses again). A body
 * given as UTF-8 pieces is streamed (chunked), so it is never copied whole.
 * @throws {DbError} when the call fails
 */
export async function callRpcText<T>(
  target: RpcTarget,
  name: string,
  body: string | readonly Uint8Array[],
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.supabaseUrl}/rest/v1/rpc/${name}`, {
      method: "POST",
      headers: {
        apikey: target.serviceKey,
        authorization: `Bearer ${target.serviceKey}`,
        "content-type": "text/plain; charset=utf-8",
        accept: "application/json",
      },
      body: typeof body === "string" ? body : streamOf(body),
    });
  } catch (error) {
    throw toDbError(error);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a proxy's HTML or an empty body: reported below with the status
  }
  if (!response.ok) {
    const error = parsed && typeof parsed === "object" && "message" in parsed
      ? parsed as PostgrestLikeError
      : { message: `PostgREST answered ${response.status}: ${text.slice(0, 200)}` };
    throw toDbError(error, response.status);
  }
  return parsed as T;
}

/**
 * The 503 a caller gets while the database is unreachable or busy, with Retry-After.
 * @param message what the client is told (default: unavailable, retry)
 */
export function databaseUnavailable(message = "The database is unavailable; retry"): HttpError {
  return new HttpError(503, "database_unavailable", message, undefined, { "retry-after": "5" });
}

/** A transient DbError as the 503 of databaseUnavailable; any other error as it is. */
export function unavailableOr(error: unknown): unknown {
  return error instanceof DbError && error.transient ? databaseUnavailable() : error;
}
