/**
 * GET /telemetry-analytics: analytics for operators, from the rollups and the monitoring
 * functions only, so no answer costs more as telemetry grows.
 * - `/?device_id=[&flight_id=][&bucket=hour|day][&from=&to=]`: the device's rollups per bucket
 *   (a flight_id narrows the window to that flight's span);
 * - `/flights?device_id=[&limit=]`: the device's flights, newest first;
 * - `/monitor`: the monitor: for a user, the figures of their own devices (rates, backlog, last
 *   frames); for service role, the whole pipeline (flush history, backlog, sizes);
 * - `/internals`: index usage, slow queries and table statistics, service role only.
 *
 * A user sees their own devices (RLS through their client); another tenant's device answers
 * 404 like an unknown one. Every answer is cached in Redis under the caller's scope for as long
 * as its source stays unchanged (CACHE_SECONDS), and `Cache-Control` says so.
 *
 * With a read replica (SUPABASE_READ_REPLICA_URL), rollups and flights read through it while it
 * lags at most REPLICA_MAX_LAG_SECONDS, else through the primary; `X-Read-Source` says which
 * (`replica`, `primary`, or `cache`). The monitor and internals read the primary: their figures
 * are live (backlog, flush history) and the database internals are the primary's own.
 */
import { type Caller, identifyCaller, requireRole } from "../../../shared/auth/operator_auth.ts";
import { cacheKey } from "../../../shared/platform/cache.ts";
import { type Db, unavailableOr } from "../../../shared/platform/db.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import { sha256Hex } from "../../../shared/auth/device_auth.ts";
import {
  HttpError,
  jsonResponse,
  type RequestContext,
  requireMethod,
  subPath,
  withBoundary,
} from "../../../shared/platform/http.ts";
import {
  badParameters,
  throwIfProblems,
  unknownParams,
} from "../../../shared/query/query_params.ts";
import { callerReads } from "../../../shared/auth/caller_reads.ts";
import type { ReadTarget } from "../../../shared/platform/replica.ts";
import { admitRead, createReadLimiter } from "../../../shared/auth/operator_quota.ts";
import { runAfterAnswer } from "../../../shared/platform/after_answer.ts";
import { parseFlightsRequest, parseRollupsRequest, windowOf } from "./_params.ts";
import {
  readFlight,
  readFlights,
  readInternals,
  readOperatorMonitor,
  readPipelineMonitor,
  readRollups,
  truncate,
} from "./_read.ts";

type Route = "rollups" | "flights" | "monitor" | "internals";

/**
 * Seconds an answer stays cached: rollups and flights change when a flush runs (every 10 s
 * with pg_cron 1.5), the monitor with every flush and ingest, internals slowly.
 */
export const CACHE_SECONDS: Record<Route, number> = {
  rollups: 10,
  flights: 10,
  monitor: 5,
  internals: 60,
};

const ROUTES: Record<string, Route> = {
  "/": "rollups",
  "/flights": "flights",
  "/monitor": "monitor",
  "/internals": "internals",
};

export function createAnalyticsHandler(deps: Deps): (request: Request) => Promise<Response> {
  const reads = createReadLimiter(deps.config.limits.operatorQueriesPerMinute);
  return withBoundary("telemetry-analytics", deps.logger, async (request, context) => {
    const path = subPath(request, "telemetry-analytics");
    const route = ROUTES[path];
    if (!route) {
      throw new HttpError(
        404,
        "not_found",
        `No route ${path}; use /telemetry-analytics, /flights, /monitor or /internals`,
      );
    }
    requireMethod(request, "GET");
    const caller = await identifyCaller(request, deps.config);
    if (route === "internals") requireRole(caller, "service_role");
    else requireRole(caller, "authenticated", "service_role");
    context.log.role = caller.role;
    runAfterAnswer(admitRead(reads, deps.cache, caller, deps.now())());

    const params = new URL(request.url).searchParams;
    const compute = computeFor(route, params, caller, deps);
    const scope = caller.role === "authenticated" ? `user:${caller.userId}` : "service";
    const key = cacheKey("analytics", scope, route, sha256Hex(canonical(params)));
    return await cachedAnswer(deps, key, CACHE_SECONDS[route], compute, context);
  }, deps.now);
}

/** An answer and where it was read. */
type Computed = { answer: Record<string, unknown>; source: ReadTarget };

/** Checks the route's parameters now (a 400 is never cached) and returns how to compute it. */
function computeFor(
  route: Route,
  params: URLSearchParams,
  caller: Caller,
  deps: Deps,
): () => Promise<Computed> {
  const reads = callerReads(deps, caller);
  const db: Db = reads.on("primary");
  /** Rollups and flights: on the replica while it is fit. */
  const preferReplica = (compute: (target: ReadTarget) => Promise<Record<string, unknown>>) => () =>
    reads.run(compute).then(({ value, source }) => ({ answer: value, source }));
  const onPrimary = (compute: () => Promise<Record<string, unknown>>) => async () => ({
    answer: await compute(),
    source: "primary" as const,
  });
  if (route === "rollups") {
    const parsed = parseRollupsRequest(params);
    if (!parsed.ok) throw badParameters(parsed.problems);
    const request = parsed.request;
    return preferReplica(async (target) => {
      const targetDb = reads.on(target);
      await reads.requireVisibleDevice(target, request.deviceId);
      let window = windowOf(request, deps.now());
      if (request.flightId !== null) {
        const flight = await readFlight(targetDb, request.deviceId, request.flightId);
        if (!flight) {
          throw new HttpError(404, "flight_not_found", `No flight "${request.flightId}"`);
        }
        window = {
          from: request.from ?? new Date(flight.started_at),
          to: request.to ?? new Date(Date.parse(flight.ended_at) + 1),
        };
      }
      const buckets = await readRollups(targetDb, request, window);
      return {
        device_id: request.deviceId,
        flight_id: request.flightId,
        bucket: request.bucket,
        from: truncate(window.from, request.bucket).toISOString(),
        to: window.to.toISOString(),
        buckets,
      };
    });
  }
  if (route === "flights") {
    const parsed = parseFlightsRequest(params);
    if (!parsed.ok) throw badParameters(parsed.problems);
    return preferReplica(async (target) => {
      await reads.requireVisibleDevice(target, parsed.deviceId);
      return {
        device_id: parsed.deviceId,
        flights: await readFlights(reads.on(target), parsed.deviceId, parsed.limit),
      };
    });
  }
  throwIfProblems(unknownParams(params, []));
  if (route === "internals") {
    return onPrimary(async () => ({ internals: await readInternals(deps.db) }));
  }
  return caller.role === "service_role"
    ? onPrimary(async () => ({ scope: "pipeline", monitor: await readPipelineMonitor(deps.db) }))
    : onPrimary(async () => ({ scope: "devices", monitor: await readOperatorMonitor(db) }));
}

/** The cached answer, else a fresh one that is then cached; both say how long it stays. */
async function cachedAnswer(
  deps: Deps,
  key: string,
  seconds: number,
  compute: () => Promise<Computed>,
  context: RequestContext,
): Promise<Response> {
  const headers = { "cache-control": `private, max-age=${seconds}` };
  const hit = await deps.cache.get(key);
  context.log.cache_hit = hit !== null;
  if (hit !== null) {
    return jsonResponse({ success: true, ...JSON.parse(hit), cached: true }, 200, {
      ...headers,
      "x-read-source": "cache",
    });
  }
  const { answer, source } = await compute().catch((error: unknown) => {
    throw unavailableOr(error);
  });
  context.log.read_source = source;
  const body = { ...answer, timestamp: deps.now().toISOString() };
  await deps.cache.set(key, JSON.stringify(body), seconds);
  return jsonResponse({ success: true, ...body, cached: false }, 200, {
    ...headers,
    "x-read-source": source,
  });
}

/** The parameters in a fixed order, so the same question finds the same cache entry. */
function canonical(params: URLSearchParams): string {
  return [...params.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) =>
    `${encodeURIComponent(k)}=${encodeURIComponent(v)}`
  ).join("&");
}
