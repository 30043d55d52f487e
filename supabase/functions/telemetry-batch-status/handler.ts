/**
 * GET /telemetry-batch-status: pending records, batch size, age of the oldest pending frame, the
 * last flush and the schedule. Any operator (user JWT or service role); counts only, no rows.
 * The RPC runs as the caller and scopes itself: a user counts their own devices' staged frames
 * (no flush log: it counts every tenant's rows), service role the whole pipeline.
 */
import { identifyCaller, requireRole } from "../../../shared/auth/operator_auth.ts";
import { callRpc } from "../../../shared/platform/db.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import { jsonResponse, requireMethod, withBoundary } from "../../../shared/platform/http.ts";

export function createBatchStatusHandler(deps: Deps): (request: Request) => Promise<Response> {
  return withBoundary("telemetry-batch-status", deps.logger, async (request, context) => {
    requireMethod(request, "GET");
    const caller = await identifyCaller(request, deps.config);
    requireRole(caller, "authenticated", "service_role");
    context.log.role = caller.role;
    const batchStatus = await callRpc<Record<string, unknown>>(
      deps.dbAs(caller.token),
      "get_batch_status",
    );
    return jsonResponse({
      success: true,
      batch_status: batchStatus,
      timestamp: deps.now().toISOString(),
    });
  }, deps.now);
}
