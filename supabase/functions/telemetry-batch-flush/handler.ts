/**
 * POST /telemetry-batch-flush: moves every staged frame into the telemetry table now, instead of
 * waiting for the pg_cron job. service_role only.
 */
import { identifyCaller, requireRole } from "../../../shared/auth/operator_auth.ts";
import { callRpc } from "../../../shared/platform/db.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import { jsonResponse, requireMethod, withBoundary } from "../../../shared/platform/http.ts";

interface FlushResult {
  skipped: boolean;
  "rows_moved": number;
  "duplicates_dropped": number;
  "duration_ms": number;
}

export function createBatchFlushHandler(deps: Deps): (request: Request) => Promise<Response> {
  return withBoundary("telemetry-batch-flush", deps.logger, async (request, context) => {
    requireMethod(request, "POST");
    const caller = await identifyCaller(request, deps.config);
    requireRole(caller, "service_role");
    const flush = await callRpc<FlushResult>(deps.db, "flush_telemetry");
    const batchStatus = await callRpc<Record<string, unknown>>(deps.db, "get_batch_status");
    context.log.rows_moved = flush.rows_moved;
    return jsonResponse({
      success: true,
      message: flush.skipped
        ? "A flush is already running (pg_cron's or another caller's); it moves these records"
        : `Flushed ${flush.rows_moved} records (${flush.duplicates_dropped} duplicates dropped)`,
      skipped: flush.skipped,
      "rows_moved": flush.rows_moved,
      "duplicates_dropped": flush.duplicates_dropped,
      "duration_ms": flush.duration_ms,
      batch_status: batchStatus,
      timestamp: deps.now().toISOString(),
    });
  }, deps.now);
}
