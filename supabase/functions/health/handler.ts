/**
 * GET /health: is the pipeline working? Open to anyone, so it says nothing secret and counts
 * nothing of any tenant for an anonymous caller.
 * healthy: database and cache answer and the batch is moving; degraded: the cache is down or the
 * oldest pending frame is older than HEALTH_MAX_PENDING_AGE_SECONDS, or a configured read
 * replica is left aside (down, or lagging past REPLICA_MAX_LAG_SECONDS: `replica.reason` says
 * which; reads go to the primary meanwhile); unhealthy (503): the database does not answer.
 * Without a replica configured the answer has no `replica` field.
 *
 * The details in `batch_status` are scoped like every figure that counts frames: service role
 * sees the whole pipeline's backlog, a user JWT the staged frames of their own devices, anyone
 * else (no credential, the anon or publishable key) no counts at all (nulls). A credential that
 * is sent but not valid is a 401, as everywhere.
 */
import { type Caller, identifyCaller } from "../../../shared/auth/operator_auth.ts";
import { callRpc } from "../../../shared/platform/db.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import { jsonResponse, requireMethod, withBoundary } from "../../../shared/platform/http.ts";

interface BatchStatus {
  "pending_records": number;
  "batch_size": number;
  "batch_full": boolean;
  "oldest_pending_age_seconds": number | null;
}

export function createHealthHandler(deps: Deps): (request: Request) => Promise<Response> {
  return withBoundary("health", deps.logger, async (request, context) => {
    requireMethod(request, "GET");
    const caller = await optionalCaller(request, deps);
    context.log.role = caller?.role ?? "none";
    const failed = (error: unknown) => {
      deps.logger.warn("health: database check failed", { error: String(error) });
      return null;
    };
    // The status always judges the whole pipeline (is the flush moving?); it is no count.
    const [pipeline, cacheConnected, own, replica] = await Promise.all([
      callRpc<BatchStatus>(deps.db, "get_batch_status").catch(failed),
      deps.cache.ping(),
      caller?.role === "authenticated"
        ? callRpc<BatchStatus>(deps.dbAs(caller.token), "get_batch_status").catch(failed)
        : Promise.resolve(null),
      deps.replica ? deps.replica.router.state() : Promise.resolve(null),
    ]);
    const backlogStale = (pipeline?.oldest_pending_age_seconds ?? 0) >
      deps.config.limits.healthMaxPendingAgeSeconds;
    const replicaAside = replica !== null && !replica.usable;
    const status = !pipeline
      ? "unhealthy"
      : !cacheConnected || backlogStale || replicaAside
      ? "degraded"
      : "healthy";
    const details = caller?.role === "service_role" ? pipeline : own;
    return jsonResponse({
      status,
      timestamp: deps.now().toISOString(),
      supabase_connected: pipeline !== null,
      cache_connected: cacheConnected,
      batch_status: {
        "pending_records": details?.pending_records ?? null,
        "batch_size": pipeline?.batch_size ?? null,
        "batch_full": details?.batch_full ?? null,
        "oldest_pending_age_seconds": details?.oldest_pending_age_seconds ?? null,
        supabase_healthy: pipeline !== null,
        scope: !details ? null : caller?.role === "service_role" ? "pipeline" : "devices",
      },
      // Replication figures count no frames of anyone: shown to every caller.
      ...(replica && deps.config.replica
        ? {
          replica: {
            reads: replica.usable ? "replica" : "primary",
            reason: replica.reason,
            lag_seconds: replica.lagSeconds,
            max_lag_seconds: deps.config.replica.maxLagSeconds,
          },
        }
        : {}),
    }, pipeline ? 200 : 503);
  }, deps.now);
}

/** The caller when a credential is sent (a bad one is a 401); null for an anonymous probe. */
function optionalCaller(request: Request, deps: Deps): Promise<Caller | null> {
  if (!request.headers.has("authorization") && !request.headers.has("apikey")) {
    return Promise.resolve(null);
  }
  return identifyCaller(request, deps.config);
}
