/**
 * GET /telemetry-live?device_id=<uuid>[&flight_id=][&duration=]: a device's frames as
 * Server-Sent Events, for an operator JWT (own devices) or service role. Frames come from the
 * device's Redis stream, which ingest fills after each commit; Postgres is asked once per stream,
 * whether the caller may see the device (RLS), never polled.
 *
 * Opening a stream marks the device as watched: ingest publishes only watched devices' frames
 * (shared/live/live_feed.ts liveWatchKey).
 *
 * Events: `frame` (id = `<stream entry id>/<index in entry>`, data = the frame with the query's
 * field names), `gap` (a resume whose frames Redis no longer holds or that no one watched for a
 * while, or frames ingest stored but did not publish: its publishing was behind, or the device
 * was not yet watched when they were parsed), `unavailable` (Redis down; retry later) and
 * `end` after `duration` seconds (default and most 120, under the hosted 150 s wall clock),
 * with `retry:` so the client reconnects with Last-Event-ID. Tokens travel in headers only.
 */
import { identifyCaller, requireRole } from "../../../shared/auth/operator_auth.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import {
  CORS_HEADERS,
  HttpError,
  requireMethod,
  subPath,
  withBoundary,
} from "../../../shared/platform/http.ts";
import { type LiveFeed, parseEventId } from "../../../shared/live/live_feed.ts";
import { badParameters } from "../../../shared/query/query_params.ts";
import { checkParams, liveParamsSchema } from "../../../shared/query/param_schemas.ts";
import { requireVisibleDevice } from "../../../shared/auth/visible_device.ts";
import { onStreamEnd, openLiveSlot } from "../../../shared/auth/operator_quota.ts";
import { DEFAULT_TIMING, liveStream, type LiveTiming } from "./_stream.ts";

export function createLiveHandler(
  deps: Deps,
  feed: LiveFeed,
  timing: LiveTiming = DEFAULT_TIMING,
): (request: Request) => Promise<Response> {
  return withBoundary("telemetry-live", deps.logger, async (request, context) => {
    const path = subPath(request, "telemetry-live");
    if (path !== "/") {
      throw new HttpError(404, "not_found", `No route ${path}; use GET /telemetry-live`);
    }
    requireMethod(request, "GET");
    const caller = await identifyCaller(request, deps.config);
    requireRole(caller, "authenticated", "service_role");
    context.log.role = caller.role;

    const checked = checkParams(liveParamsSchema, new URL(request.url).searchParams);
    const problems = checked.ok ? [] : [...checked.problems];
    const lastEventId = request.headers.get("last-event-id");
    if (lastEventId !== null && parseEventId(lastEventId) === null) {
      problems.push({
        parameter: "Last-Event-ID",
        message: `must be an event id of this stream such as 1796101940648-0/3, got "${
          lastEventId.slice(0, 80)
        }"`,
      });
    }
    if (!checked.ok || problems.length > 0) throw badParameters(problems);
    const { device_id: deviceId, flight_id: flightId = null, duration: seconds } = checked.data;
    context.log.device_id = deviceId;

    await requireVisibleDevice(
      caller.role === "service_role" ? deps.db : deps.dbAs(caller.token),
      deviceId,
    );

    // One slot of the operator's OPERATOR_MAX_LIVE_STREAMS while the stream is open.
    const release = await openLiveSlot(
      deps.cache,
      caller,
      deps.config.limits.operatorMaxLiveStreams,
      deps.now(),
      seconds,
    );
    const body = onStreamEnd(
      liveStream(
        feed,
        { deviceId, flightId, lastEventId, seconds, signal: request.signal },
        timing,
      ),
      () => void release(),
    );
    return new Response(body, {
      headers: {
        ...CORS_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        // nginx and similar proxies would otherwise buffer the stream.
        "x-accel-buffering": "no",
      },
    });
  }, deps.now);
}
