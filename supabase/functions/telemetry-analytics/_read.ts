/**
 * What each analytics route reads: rollups and flights through the caller's client (RLS), the
 * monitor and internals through the monitoring functions. Every read is bounded by an index and
 * a limit, so its cost never grows with the number of frames stored (the operator's monitor: with
 * the last hour's frames of their devices).
 */
import { callRpc, type Db, toDbError } from "../../../shared/platform/db.ts";
import type { RollupsRequest } from "./_params.ts";

const ROLLUP_COLUMNS = [
  "bucket_start",
  "frames",
  "min_altitude_m",
  "avg_altitude_m",
  "max_altitude_m",
  "min_battery_voltage_v",
  "avg_battery_voltage_v",
  "max_groundspeed_ms",
  "distance_m",
  "armed_seconds",
  "first_frame_at",
  "last_frame_at",
].join(",");

/** The device's buckets in [from, to), oldest first (at most 1000: the window is bounded). */
export async function readRollups(
  db: Db,
  request: RollupsRequest,
  window: { from: Date; to: Date },
): Promise<Record<string, unknown>[]> {
  const view = request.bucket === "day" ? "telemetry_daily_rollups" : "telemetry_hourly_rollups";
  const result = await db.from(view).select(ROLLUP_COLUMNS)
    .eq("device_id", request.deviceId)
    .gte("bucket_start", truncate(window.from, request.bucket).toISOString())
    .lt("bucket_start", window.to.toISOString())
    .order("bucket_start", { ascending: true })
    .limit(1000);
  if (result.error) throw toDbError(result.error, result.status);
  return result.data as unknown as Record<string, unknown>[];
}

/** One flight of the device, or null. */
export async function readFlight(
  db: Db,
  deviceId: string,
  flightId: string,
): Promise<{ started_at: string; ended_at: string } | null> {
  const result = await db.from("telemetry_flights").select("started_at,ended_at")
    .eq("device_id", deviceId).eq("flight_id", flightId).maybeSingle();
  if (result.error) throw toDbError(result.error, result.status);
  return result.data;
}

/** The device's flights, newest first. */
export async function readFlights(
  db: Db,
  deviceId: string,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const result = await db.from("telemetry_flights")
    .select("flight_id,started_at,ended_at,duration_seconds,frames,distance_m,armed_seconds")
    .eq("device_id", deviceId)
    .order("started_at", { ascending: false })
    .limit(limit);
  if (result.error) throw toDbError(result.error, result.status);
  return result.data as unknown as Record<string, unknown>[];
}

/** The whole pipeline's monitor (every tenant's traffic, flush history, sizes): service role. */
export function readPipelineMonitor(serviceDb: Db): Promise<Record<string, unknown>> {
  return callRpc(serviceDb, "get_pipeline_monitor");
}

/** The monitor over the caller's own devices, through the caller's client (a user's JWT). */
export function readOperatorMonitor(userDb: Db): Promise<Record<string, unknown>> {
  return callRpc(userDb, "get_operator_monitor");
}

/** Index usage, slow queries and table statistics, for service role. */
export async function readInternals(serviceDb: Db): Promise<Record<string, unknown>> {
  const [indexUsage, slowQueries, tableStats] = await Promise.all([
    callRpc(serviceDb, "get_index_usage_stats"),
    callRpc(serviceDb, "get_slow_queries"),
    callRpc(serviceDb, "get_table_stats"),
  ]);
  return { index_usage: indexUsage, slow_queries: slowQueries, table_stats: tableStats };
}

/** The start of the bucket a time falls in (UTC). */
export function truncate(time: Date, bucket: "hour" | "day"): Date {
  const unit = bucket === "day" ? 86_400_000 : 3_600_000;
  return new Date(Math.floor(time.getTime() / unit) * unit);
}
