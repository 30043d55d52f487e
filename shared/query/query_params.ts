/**
 * Checking the query parameters of the live and analytics functions: every problem is collected
 * with the parameter it is about, and one 400 names them all.
 */
import { HttpError } from "../platform/http.ts";

/** One problem with one query parameter (or header). */
export interface ParamProblem {
  parameter: string;
  message: string;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Problems for parameters that are not allowed, or given more than once. */
export function unknownParams(params: URLSearchParams, allowed: readonly string[]): ParamProblem[] {
  const problems: ParamProblem[] = [];
  for (const name of new Set(params.keys())) {
    if (!allowed.includes(name)) {
      problems.push({
        parameter: name,
        message: `is not a known parameter; use ${allowed.join(", ") || "none"}`,
      });
    } else if (params.getAll(name).length > 1) {
      problems.push({ parameter: name, message: "is given more than once" });
    }
  }
  return problems;
}

/** The device_id parameter, required and a UUID. */
export function deviceIdParam(params: URLSearchParams, problems: ParamProblem[]): string {
  const value = params.get("device_id");
  if (value === null || value === "") {
    problems.push({ parameter: "device_id", message: "is required" });
  } else if (!UUID_PATTERN.test(value)) {
    problems.push({
      parameter: "device_id",
      message: `must be a UUID, got "${value.slice(0, 80)}"`,
    });
  }
  return (value ?? "").toLowerCase();
}

/** The optional flight_id parameter: 1 to 200 characters. */
export function flightIdParam(params: URLSearchParams, problems: ParamProblem[]): string | null {
  const value = params.get("flight_id");
  if (value === null) return null;
  if (value.length < 1 || value.length > 200) {
    problems.push({ parameter: "flight_id", message: "must be 1 to 200 characters" });
  }
  return value;
}

/** An optional whole number within bounds, else the default. */
export function integerParam(
  params: URLSearchParams,
  name: string,
  bounds: { min: number; max: number; fallback: number },
  problems: ParamProblem[],
): number {
  const value = params.get(name);
  if (value === null) return bounds.fallback;
  const number = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(number >= bounds.min && number <= bounds.max)) {
    problems.push({
      parameter: name,
      message: `must be an integer from ${bounds.min} to ${bounds.max}, got "${
        value.slice(0, 80)
      }"`,
    });
    return bounds.fallback;
  }
  return number;
}

/** An optional ISO 8601 timestamp with a time zone; null when absent or bad (bad is a problem). */
export function timestampParam(
  params: URLSearchParams,
  name: string,
  problems: ParamProblem[],
): Date | null {
  const value = params.get(name);
  if (value === null) return null;
  const zoned = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
  const time = zoned.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    problems.push({
      parameter: name,
      message: `must be an ISO 8601 timestamp such as 2026-11-26T10:00:00Z, got "${
        value.slice(0, 80)
      }"`,
    });
    return null;
  }
  return new Date(time);
}

/** The 400 that names every problem (the first in the message, all in the details). */
export function badParameters(problems: readonly ParamProblem[]): HttpError {
  const [first] = problems;
  return new HttpError(
    400,
    "invalid_parameter",
    first
      ? `Invalid query parameter "${first.parameter}": ${first.message}`
      : "Invalid query parameters",
    problems,
  );
}

/**
 * Throws the 400 that names every problem, when there is one.
 * @throws {HttpError} 400 invalid_parameter with the problems as details
 */
export function throwIfProblems(problems: readonly ParamProblem[]): void {
  if (problems.length > 0) throw badParameters(problems);
}
