/**
 * GET /telemetry-query: a page of frames for an operator (a user JWT or service role), with the
 * reference API's parameters and shape `{success, data[], count, limit, offset, timestamp}` plus
 * `cached` and `count_method`. A user sees the frames of their own devices (RLS), service role
 * every frame; both see frames the moment ingest accepted them (telemetry ∪ staging).
 *
 * Answers are cached in Redis under the caller's scope and the scope's generation, which ingest
 * bumps after every commit (shared/query_cache.ts): a repeated query is served from the cache,
 * a query after an ingest is computed afresh. Without Redis every query goes to Postgres.
 */
import { identifyCaller, requireRole } from "../../../shared/auth.ts";
import { DbError } from "../../../shared/db.ts";
import type { Deps } from "../../../shared/deps.ts";
import { sha256Hex } from "../../../shared/device_auth.ts";
import {
  HttpError,
  jsonResponse,
  requireMethod,
  subPath,
  withBoundary,
} from "../../../shared/http.ts";
import { queryCacheKey, type QueryScope, scopeGenerationKey } from "../../../shared/query_cache.ts";
import { canonicalQuery, parseTelemetryQuery } from "../../../shared/schemas/query.ts";
import { type FramesPage, readFrames } from "./_frames.ts";

/** Answers larger than this are not cached: one Upstash request is limited to 1 MB. */
const MAX_CACHED_CHARS = 900_000;

export function createTelemetryQueryHandler(deps: Deps): (request: Request) => Promise<Response> {
  return withBoundary("telemetry-query", deps.logger, async (request, context) => {
    const path = subPath(request, "telemetry-query");
    if (path !== "/") {
      throw new HttpError(404, "not_found", `No route ${path}; use GET /telemetry-query`);
    }
    requireMethod(request, "GET");
    const caller = await identifyCaller(request, deps.config);
    requireRole(caller, "authenticated", "service_role");
    context.log.role = caller.role;
    if (caller.userId) context.log.user_id = caller.userId;

    const parsed = parseTelemetryQuery(new URL(request.url).searchParams);
    if (!parsed.success) {
      const [first] = parsed.problems;
      throw new HttpError(
        400,
        "invalid_parameter",
        first ? `Invalid query parameter "${first.parameter}": ${first.message}` : "Invalid query",
        parsed.problems,
      );
    }
    const query = parsed.query;

    const scope: QueryScope = caller.role === "authenticated"
      ? { kind: "user", userId: caller.userId }
      : { kind: "service" };
    // A generation that was never bumped reads as "0"; a cache that is down reads as a miss.
    const [generation] = await deps.cache.getMany([scopeGenerationKey(scope)]);
    const key = queryCacheKey(scope, generation ?? "0", await sha256Hex(canonicalQuery(query)));
    const cachedText = await deps.cache.get(key);
    let page: FramesPage;
    let cached = false;
    if (cachedText) {
      page = JSON.parse(cachedText);
      cached = true;
    } else {
      const db = caller.role === "service_role" ? deps.db : deps.dbAs(caller.token);
      page = await readFrames(db, query, scope.kind).catch((error: unknown) => {
        throw error instanceof DbError && error.transient
          ? new HttpError(
            503,
            "database_unavailable",
            "The database is unavailable; retry",
            undefined,
            {
              "retry-after": "5",
            },
          )
          : error;
      });
      const text = JSON.stringify(page);
      if (text.length <= MAX_CACHED_CHARS) {
        await deps.cache.set(key, text, deps.config.limits.queryCacheSeconds);
      }
    }
    context.log.cache_hit = cached;
    context.log.rows = page.data.length;

    return jsonResponse({
      success: true,
      data: page.data,
      count: page.count,
      count_method: page.count_method,
      limit: query.limit,
      offset: query.offset,
      cached,
      timestamp: deps.now().toISOString(),
    });
  }, deps.now);
}
