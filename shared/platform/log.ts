/**
 * Structured logging: one JSON object per line, the only place that writes to the console.
 * Callers pass fields, never secrets; `redact` guards the fields most likely to carry one.
 */

export type LogLevel = "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

/** Writes log lines; tests pass their own sink to read what was logged. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const SECRET_FIELDS = /authorization|apikey|api_key|token|secret|password|key$/i;

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [name, value] of Object.entries(fields)) {
    out[name] = SECRET_FIELDS.test(name) ? "[redacted]" : value;
  }
  return out;
}

/**
 * Creates a logger that writes JSON lines.
 * @param base fields added to every line (e.g. the function's name)
 * @param write where lines go; console by default
 */
export function createLogger(
  base: LogFields = {},
  write: (level: LogLevel, line: string) => void = writeToConsole,
): Logger {
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) =>
    write(
      level,
      JSON.stringify({
        ...redact(base),
        ...redact(fields),
        level,
        message,
        time: new Date().toISOString(),
      }),
    );
  return {
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
  };
}

function writeToConsole(level: LogLevel, line: string): void {
  // deno-lint-ignore no-console
  (level === "info" ? console.log : console.error)(line);
}

/** A logger that keeps lines in memory, for tests. */
export function createMemoryLogger(): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger({}, (_level, line) => lines.push(JSON.parse(line)));
  return Object.assign(logger, { lines });
}
