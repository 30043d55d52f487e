/**
 * The one place that builds responses: JSON bodies, the reference API's error shape
 * `{success: false, error: {code, message, details?}, timestamp, request_id}`, CORS, and the
 * boundary that turns thrown errors into responses and writes one log line per request.
 */
import type { LogFields, Logger } from "./log.ts";

/** An error meant for the client: its status, a stable code and a message naming the problem. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const CORS_HEADERS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, x-device-key, idempotency-key, last-event-id",
  "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
  // x-read-source: where a query or analytics answer was read (a read replica, the primary, cache).
  "access-control-expose-headers": "retry-after, x-request-id, x-read-source",
};

/** A JSON response with CORS headers. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...CORS_HEADERS, ...headers },
  });
}

/** The error body every function answers with. */
export function errorBody(
  code: string,
  message: string,
  details: unknown,
  requestId: string,
  now: Date,
): Record<string, unknown> {
  return {
    success: false,
    error: details === undefined ? { code, message } : { code, message, details },
    timestamp: now.toISOString(),
    request_id: requestId,
  };
}

/** What a handler may add to its request's log line (device, user, frames, cache hit ...). */
export interface RequestContext {
  requestId: string;
  log: LogFields;
}

export type ContextHandler = (request: Request, context: RequestContext) => Promise<Response>;

/**
 * Wraps a handler with what every function does: answers CORS preflight, maps HttpError to its
 * response and any other error to a bare 500 (logged with its stack), and logs one line per
 * request with the status and duration.
 */
export function withBoundary(
  functionName: string,
  logger: Logger,
  handler: ContextHandler,
  now: () => Date = () => new Date(),
): (request: Request) => Promise<Response> {
  return async (request) => {
    const started = performance.now();
    const context: RequestContext = { requestId: crypto.randomUUID(), log: {} };
    let response: Response;
    if (request.method === "OPTIONS") {
      response = new Response(null, { status: 204, headers: CORS_HEADERS });
    } else {
      try {
        response = await handler(request, context);
      } catch (error) {
        response = errorToResponse(error, context, logger, now());
      }
    }
    response.headers.set("x-request-id", context.requestId);
    logger.info("request", {
      function: functionName,
      method: request.method,
      status: response.status,
      duration_ms: Math.round(performance.now() - started),
      request_id: context.requestId,
      ...context.log,
    });
    return response;
  };
}

function errorToResponse(
  error: unknown,
  context: RequestContext,
  logger: Logger,
  now: Date,
): Response {
  if (error instanceof HttpError) {
    return jsonResponse(
      errorBody(error.code, error.message, error.details, context.requestId, now),
      error.status,
      error.headers,
    );
  }
  logger.error("unhandled error", {
    request_id: context.requestId,
    error: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
  return jsonResponse(
    errorBody("internal_error", "Internal server error", undefined, context.requestId, now),
    500,
  );
}

/**
 * Throws 405 unless the request's method is one of those allowed.
 * @throws {HttpError} 405 with an Allow header
 */
export function requireMethod(request: Request, ...allowed: string[]): void {
  if (!allowed.includes(request.method)) {
    throw new HttpError(
      405,
      "method_not_allowed",
      `Method ${request.method} is not allowed; use ${allowed.join(" or ")}`,
      undefined,
      { allow: allowed.join(", ") },
    );
  }
}

/** The path after the function's name: "/telemetry-query/x" -> "/x", as the gateway forwards it. */
export function subPath(request: Request, functionName: string): string {
  const path = new URL(request.url).pathname;
  const prefix = `/${functionName}`;
  const rest = path.startsWith(prefix) ? path.slice(prefix.length) : path;
  return rest === "" ? "/" : rest;
}
