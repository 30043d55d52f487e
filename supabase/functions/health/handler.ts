/**
 * GET /health: is the pipeline working? Open to anyone, so it says nothing secret.
 * healthy: database and cache answer and the batch is moving; degraded: the cache is down or the
 * oldest pending frame is older than HEALTH_MAX_PENDING_AGE_SECONDS; unhealthy (503): the
 * database does not answer.
 */
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
  return withBoundary("health", deps.logger, async (request) => {
    requireMethod(request, "GET");
    const [batch, cacheConnected] = await Promise.all([
      callRpc<BatchStatus>(deps.db, "get_batch_status").catch((error: unknown) => {
        deps.logger.warn("health: database check failed", { error: String(error) });
        return null;
      }),
      deps.cache.ping(),
    ]);
    const backlogStale = (batch?.oldest_pending_age_seconds ?? 0) >
      deps.config.limits.healthMaxPendingAgeSeconds;
    const status = !batch ? "unhealthy" : !cacheConnected || backlogStale ? "degraded" : "healthy";
    return jsonResponse({
      status,
      timestamp: deps.now().toISOString(),
      supabase_connected: batch !== null,
      cache_connected: cacheConnected,
      batch_status: {
        "pending_records": batch?.pending_records ?? null,
        "batch_size": batch?.batch_size ?? null,
        "batch_full": batch?.batch_full ?? null,
        "oldest_pending_age_seconds": batch?.oldest_pending_age_seconds ?? null,
        supabase_healthy: batch !== null,
      },
    }, batch ? 200 : 503);
  }, deps.now);
}
