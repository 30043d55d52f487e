/**
 * GET /telemetry-query: a page of frames for an operator (a user JWT or service role), with the
 * reference API's parameters and shape `{success, data[], count, limit, offset, timestamp}` plus
 * `cached` and `count_method`. A user sees the frames of their own devices (RLS), service role
 * every frame; both see frames the moment ingest accepted them (telemetry ∪ staging). A
 * `device_id` the caller may not see (another tenant's, or none) is a 404 `device_not_found`.
 *
 * Answers are cached in Redis under the caller's scope and the scope's generation, which ingest
 * bumps after every commit (shared/query/query_cache.ts): a repeated query is served from the cache,
 * a query after an ingest is computed afresh. Without Redis every query goes to Postgres.
 * A cached page is kept as JSON text and spliced into the answer unparsed, so a hit costs two
 * Redis reads and no JSON work on the page.
 *
 * `next_cursor` resumes after the page (keyset); `format=csv|ndjson` streams every frame of the
 * query instead of one page (_stream.ts). `Server-Timing: fn;dur=` is the time spent in the
 * function until the answer (or the stream's headers) was ready, `db` and `cache` its parts.
 *
 * With a read replica (SUPABASE_READ_REPLICA_URL), pages and exports read through it while it
 * lags at most REPLICA_MAX_LAG_SECONDS, else through the primary; `X-Read-Source` says which
 * (`replica`, `primary`, or `cache`). A page read on the replica is cached for at most that lag
 * (README, "Read replica: reads that scale out", the consistency an operator gets).
 */
import { identifyCaller, requireRole } from "../../../shared/auth/operator_auth.ts";
import { callerReads } from "../../../shared/auth/caller_reads.ts";
import { unavailableOr } from "../../../shared/platform/db.ts";
import type { ReadTarget } from "../../../shared/platform/replica.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import { sha256Hex } from "../../../shared/auth/device_auth.ts";
import {
  CORS_HEADERS,
  HttpError,
  requireMethod,
  subPath,
  withBoundary,
} from "../../../shared/platform/http.ts";
import {
  queryCacheBudgets,
  queryCacheKey,
  queryCacheKeyPrefix,
  type QueryScope,
  scopeGenerationKey,
} from "../../../shared/query/query_cache.ts";
import { canonicalQuery, parseTelemetryQuery } from "../../../shared/query/query_schema.ts";
import { admitRead, createReadLimiter } from "../../../shared/auth/operator_quota.ts";
import { runAfterAnswer } from "../../../shared/platform/after_answer.ts";
import { readFrames } from "./_frames.ts";
import { type PageReader, readFirstPage, streamFrames } from "./_stream.ts";

/** Answers larger than this are not cached: one Upstash request is limited to 1 MB. */
const MAX_CACHED_CHARS = 900_000;

export function createTelemetryQueryHandler(deps: Deps): (request: Request) => Promise<Response> {
  const reads = createReadLimiter(deps.config.limits.operatorQueriesPerMinute);
  return withBoundary("telemetry-query", deps.logger, async (request, context) => {
    const started = performance.now();
    const timing = { db: 0, cache: 0 };
    const serverTiming = () =>
      `fn;dur=${(performance.now() - started).toFixed(2)}, db;dur=${
        timing.db.toFixed(2)
      }, cache;dur=${timing.cache.toFixed(2)}`;
    const path = subPath(request, "telemetry-query");
    if (path !== "/") {
      throw new HttpError(404, "not_found", `No route ${path}; use GET /telemetry-query`);
    }
    requireMethod(request, "GET");
    const caller = await identifyCaller(request, deps.config);
    requireRole(caller, "authenticated", "service_role");
    context.log.role = caller.role;
    if (caller.userId) context.log.user_id = caller.userId;
    runAfterAnswer(admitRead(reads, deps.cache, caller, deps.now())());

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

    const frames = callerReads(deps, caller);
    const unavailable = (error: unknown) => {
      throw unavailableOr(error);
    };

    // Another tenant's device answers 404 like an unknown one, as in telemetry-live and
    // telemetry-analytics (RLS alone would answer an empty page). Checked when Postgres is asked:
    // a cached page exists only for a device that passed this check.
    const visible = (target: ReadTarget) =>
      query.device_id === undefined
        ? Promise.resolve()
        : frames.requireVisibleDevice(target, query.device_id);
    const pageOn = (target: ReadTarget): PageReader => (options) =>
      readFrames(frames.on(target), query, { ...options, viaGet: target === "replica" });

    if (query.format !== "json") {
      const mark = performance.now();
      const { value: first, source } = await frames.run(async (target) => {
        await visible(target);
        return await readFirstPage(pageOn(target), query);
      }).catch(unavailable);
      timing.db += performance.now() - mark;
      context.log.read_source = source;
      // Each further page prefers the replica too, so a replica that goes away mid-export costs
      // the export nothing; keyset pages join up whichever side served them.
      const readPage: PageReader = async (options) =>
        (await frames.run((target) => pageOn(target)(options))).value;
      const stream = streamFrames(readPage, query, query.format, (error) => {
        context.log.stream_error = error instanceof Error ? error.message : String(error);
      }, first);
      return new Response(stream, {
        headers: {
          "content-type": query.format === "csv"
            ? "text/csv; charset=utf-8"
            : "application/x-ndjson",
          ...CORS_HEADERS,
          "server-timing": serverTiming(),
          "x-read-source": source,
        },
      });
    }

    const scope: QueryScope = caller.role === "authenticated"
      ? { kind: "user", userId: caller.userId }
      : { kind: "service" };
    // A generation that was never bumped reads as "0"; a cache that is down reads as a miss.
    let mark = performance.now();
    const paramsHash = sha256Hex(canonicalQuery(query));
    const hit = await deps.cache.getAtGeneration(
      scopeGenerationKey(scope),
      queryCacheKeyPrefix(scope),
      `:${paramsHash}`,
    );
    const key = queryCacheKey(scope, hit.generation, paramsHash);
    let pageText = hit.value;
    timing.cache += performance.now() - mark;
    const cached = pageText !== null;
    let source: ReadTarget | "cache" = "cache";
    if (pageText === null) {
      mark = performance.now();
      const read = await frames.run(async (target) => {
        const [, page] = await Promise.all([visible(target), pageOn(target)({ count: true })]);
        return page;
      }).catch(unavailable);
      const page = read.value;
      source = read.source;
      timing.db += performance.now() - mark;
      pageText = JSON.stringify(page);
      context.log.rows = page.data.length;
      if (pageText.length <= MAX_CACHED_CHARS) {
        mark = performance.now();
        // Ingest bumps the generation once its frames are committed on the primary, which may be
        // before the replica has replayed them: a page read there is kept no longer than the
        // replica may lag, so it cannot outlive a write it missed by more than that.
        const ttlSeconds = source === "replica" && deps.config.replica
          ? Math.min(deps.config.limits.queryCacheSeconds, deps.config.replica.maxLagSeconds)
          : deps.config.limits.queryCacheSeconds;
        // Over its budgets the answer is simply not cached (README, "Redis memory").
        const budgets = queryCacheBudgets(scope, deps.now(), {
          ttlSeconds: deps.config.limits.queryCacheSeconds,
          perScopeBytes: deps.config.limits.queryCacheBytesPerUser,
          totalBytes: deps.config.limits.queryCacheBytesTotal,
        });
        context.log.cache_stored = await deps.cache.setWithinBudget(
          key,
          pageText,
          Math.max(1, Math.ceil(ttlSeconds)),
          budgets,
        );
        timing.cache += performance.now() - mark;
      }
    }
    context.log.cache_hit = cached;
    context.log.read_source = source;

    // {data, count, count_method, next_cursor} as cached, plus the fields of this answer.
    const tail = JSON.stringify({
      limit: query.limit,
      offset: query.offset,
      cached,
      timestamp: deps.now().toISOString(),
    });
    const body = `{"success":true,${pageText.slice(1, -1)},${tail.slice(1)}`;
    return new Response(body, {
      headers: {
        "content-type": "application/json",
        ...CORS_HEADERS,
        "server-timing": serverTiming(),
        "x-read-source": source,
      },
    });
  }, deps.now);
}
