/**
 * What the stack's logs said while a suite ran, for a suite that failed: CI keeps the output of
 * a run but not its .stack/ folder, so a failure that only shows on the CI machine (a 500 from a
 * function, say) would otherwise leave nothing to read but the test's own message.
 */
import { join } from "node:path";
import { STACK_DIR } from "./layout.ts";

/** Each log file's size now: where a later excerpt starts. */
export async function logSizes(): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  try {
    for await (const entry of Deno.readDir(join(STACK_DIR, "logs"))) {
      if (!entry.isFile) continue;
      const stat = await Deno.stat(join(STACK_DIR, "logs", entry.name));
      sizes.set(entry.name, stat.size);
    }
  } catch {
    // no stack was ever started
  }
  return sizes;
}

/**
 * Whether a log line is worth reading after a failure: a function's warnings and errors (its
 * JSON lines at "info" level are one per request), everything the supervisor and gateway say,
 * everything PostgREST says but its retry loop while the database is away on purpose and the
 * requests it answered with a 2xx.
 */
export function isNotable(file: string, line: string): boolean {
  if (line.trim() === "") return false;
  if (file.startsWith("function-")) return !line.includes('"level":"info"');
  if (file === "postgrest.log" || file === "replica-postgrest.log") {
    return !line.includes('"PGRST000"') && !/HTTP\/1\.1" 2\d\d /.test(line);
  }
  return file === "supervisor.log" || file === "gateway.log";
}

/** The notable lines each log gained since `since`, the last `perFile` of each, file by file. */
export async function logExcerpt(since: Map<string, number>, perFile = 15): Promise<string> {
  const parts: string[] = [];
  const now = await logSizes();
  for (const [file, size] of [...now].sort(([a], [b]) => a.localeCompare(b))) {
    const start = since.get(file) ?? 0;
    if (size <= start) continue;
    const bytes = await Deno.readFile(join(STACK_DIR, "logs", file));
    const lines = new TextDecoder().decode(bytes.subarray(start)).split("\n")
      .filter((line) => isNotable(file, line));
    if (lines.length === 0) continue;
    const shown = lines.slice(-perFile).map((line) =>
      line.length > 600 ? `${line.slice(0, 600)}…` : line
    );
    const skipped = lines.length - shown.length;
    parts.push(
      `--- .stack/logs/${file}${skipped > 0 ? ` (last ${shown.length} of ${lines.length})` : ""}`,
      ...shown,
    );
  }
  return parts.join("\n");
}
