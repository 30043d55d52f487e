/**
 * The query strings of telemetry-analytics and telemetry-live as zod schemas: what the functions
 * check a request with, and what the OpenAPI document (shared/api/openapi.ts) describes their
 * parameters from. Every value arrives as a string; each problem names its parameter and shows
 * the value given.
 *
 * @module
 */
import { z } from "zod";
import { type ParamProblem, unknownParams, UUID_PATTERN } from "./query_params.ts";

/** The longest live stream, in seconds: under the free plan's 150 s wall clock per request. */
export const MAX_LIVE_SECONDS = 120;

/** Most flights one answer lists. */
export const MAX_FLIGHTS = 1000;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const deviceId = z.string({ error: "is required" })
  .regex(UUID_PATTERN, { message: "must be a UUID" })
  .transform((text) => text.toLowerCase())
  .meta({ description: "The device (404 for one the caller may not see)" });

const flightId = z.string().min(1, { message: "must be 1 to 200 characters" })
  .max(200, { message: "must be 1 to 200 characters" })
  .meta({ description: "Only this flight" });

const integer = (min: number, max: number, fallback: number) =>
  z.string().regex(/^\d{1,9}$/, { message: `must be an integer from ${min} to ${max}` })
    .transform(Number)
    .refine((value) => value >= min && value <= max, {
      message: `must be an integer from ${min} to ${max}`,
    })
    .default(fallback);

const timestamp = z.string()
  .refine((text) => TIMESTAMP.test(text) && !Number.isNaN(Date.parse(text)), {
    message: "must be an ISO 8601 timestamp such as 2026-11-26T10:00:00Z",
  })
  .transform((text) => new Date(text));

/** GET /telemetry-analytics: rollups of a device per hour or day. */
export const rollupsParamsSchema = z.object({
  "device_id": deviceId,
  "flight_id": flightId.optional(),
  bucket: z.enum(["hour", "day"], { message: "must be hour or day" }).default("hour")
    .meta({ description: "hour (default) or day" }),
  from: timestamp.optional().meta({ description: "Window start (default: before to)" }),
  to: timestamp.optional().meta({ description: "Window end, exclusive (default: now)" }),
});

/** GET /telemetry-analytics/flights: a device's flights, newest first. */
export const flightsParamsSchema = z.object({
  "device_id": deviceId,
  limit: integer(1, MAX_FLIGHTS, 100).meta({ description: "Flights to list (default 100)" }),
});

/** GET /telemetry-live: a device's frames as Server-Sent Events. */
export const liveParamsSchema = z.object({
  "device_id": deviceId,
  "flight_id": flightId.optional(),
  duration: integer(1, MAX_LIVE_SECONDS, MAX_LIVE_SECONDS)
    .meta({ description: "Seconds before the stream ends (default and most 120)" }),
});

/** A checked query string, or every problem with it (unknown or repeated parameters first). */
export type ParamsResult<T> = { ok: true; data: T } | { ok: false; problems: ParamProblem[] };

/** Checks a query string against one of the schemas above. Never throws. */
export function checkParams<S extends z.ZodObject>(
  schema: S,
  params: URLSearchParams,
): ParamsResult<z.output<S>> {
  const names = Object.keys(schema.shape);
  const problems = unknownParams(params, names);
  const raw: Record<string, string> = {};
  for (const name of names) {
    const value = params.get(name);
    if (value !== null) raw[name] = value;
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success && problems.length === 0) return { ok: true, data: parsed.data };
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const parameter = String(issue.path[0] ?? "query");
    if (problems.some((problem) => problem.parameter === parameter)) continue;
    const value = raw[parameter];
    problems.push({
      parameter,
      message: value === undefined
        ? issue.message
        : `${issue.message}, got "${value.slice(0, 80)}"`,
    });
  }
  return { ok: false, problems };
}
