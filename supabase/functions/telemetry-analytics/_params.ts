/**
 * The parameters of each analytics route, checked into one typed request or a list of problems
 * naming the parameters (unknown ones included).
 */
import type { ParamProblem } from "../../../shared/query/query_params.ts";
import {
  checkParams,
  flightsParamsSchema,
  rollupsParamsSchema,
} from "../../../shared/query/param_schemas.ts";

export type Bucket = "hour" | "day";

export interface RollupsRequest {
  deviceId: string;
  flightId: string | null;
  bucket: Bucket;
  /** Absent: the last DEFAULT_SPAN of the bucket size, ending now. */
  from: Date | null;
  to: Date | null;
}

const HOUR_MS = 3_600_000;
/** The default window and the longest allowed one, so an answer never holds over ~1000 buckets. */
export const SPANS: Record<Bucket, { defaultMs: number; maxMs: number }> = {
  hour: { defaultMs: 7 * 24 * HOUR_MS, maxMs: 42 * 24 * HOUR_MS },
  day: { defaultMs: 90 * 24 * HOUR_MS, maxMs: 1000 * 24 * HOUR_MS },
};

/** GET /telemetry-analytics: device_id, flight_id, bucket, from, to (rollupsParamsSchema). */
export function parseRollupsRequest(
  params: URLSearchParams,
): { ok: true; request: RollupsRequest } | { ok: false; problems: ParamProblem[] } {
  const checked = checkParams(rollupsParamsSchema, params);
  if (!checked.ok) return checked;
  const { device_id: deviceId, flight_id: flightId, bucket } = checked.data;
  const from = checked.data.from ?? null;
  const to = checked.data.to ?? null;
  const problems: ParamProblem[] = [];
  if (from && to && from.getTime() >= to.getTime()) {
    problems.push({ parameter: "to", message: `must be after from (${from.toISOString()})` });
  } else if (from && to && to.getTime() - from.getTime() > SPANS[bucket].maxMs) {
    problems.push({
      parameter: "from",
      message: `must be at most ${
        SPANS[bucket].maxMs / (24 * HOUR_MS)
      } days before to for ${bucket} buckets`,
    });
  }
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, request: { deviceId, flightId: flightId ?? null, bucket, from, to } };
}

/** The window a request covers: absent ends are filled from now and the default span. */
export function windowOf(request: RollupsRequest, now: Date): { from: Date; to: Date } {
  const span = SPANS[request.bucket];
  const to = request.to ??
    (request.from
      ? new Date(Math.min(request.from.getTime() + span.maxMs, now.getTime() + HOUR_MS))
      : now);
  const from = request.from ?? new Date(to.getTime() - span.defaultMs);
  return { from, to };
}

/** GET /telemetry-analytics/flights: device_id and limit (flightsParamsSchema). */
export function parseFlightsRequest(
  params: URLSearchParams,
): { ok: true; deviceId: string; limit: number } | { ok: false; problems: ParamProblem[] } {
  const checked = checkParams(flightsParamsSchema, params);
  return checked.ok
    ? { ok: true, deviceId: checked.data.device_id, limit: checked.data.limit }
    : checked;
}
