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
