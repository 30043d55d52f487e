/**
 * The functions' settings from an env file, read as `supabase functions serve --env-file` reads
 * one: dotenv lines (`NAME=value`, optional `export `, `#` comments, single- or double-quoted
 * values), and names starting with SUPABASE_ skipped, since the stack sets those itself (so are
 * the UPSTASH_REDIS_REST_* pair, which points at the stack's own Redis). Unlike the CLI, whose
 * functions see nothing of the shell, a variable set in the shell wins over the file.
 */
import { join, resolve } from "node:path";
import { PROJECT_ROOT } from "./layout.ts";
import { StackError } from "./processes.ts";

/** Names the stack gives the functions itself; a file's value for them is skipped. */
const SET_BY_STACK = /^(SUPABASE_|UPSTASH_REDIS_REST_)/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses dotenv text into name/value pairs, in file order.
 * @throws {SyntaxError} naming the line that is not `NAME=value`
 */
export function parseEnvText(text: string): Map<string, string> {
  const values = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const assignment = line.replace(/^export\s+/, "");
    const equals = assignment.indexOf("=");
    const name = equals > 0 ? assignment.slice(0, equals).trim() : "";
    if (!NAME.test(name)) {
      throw new SyntaxError(`Line ${index + 1} is not NAME=value: "${line.slice(0, 80)}"`);
    }
    values.set(name, unquote(assignment.slice(equals + 1).trim(), index + 1));
  }
  return values;
}

function unquote(raw: string, lineNumber: number): string {
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    const end = raw.indexOf(quote, 1);
    if (end < 0) throw new SyntaxError(`Line ${lineNumber} has an unclosed ${quote} quote`);
    const inner = raw.slice(1, end);
    return quote === '"'
      ? inner.replace(/\\n/g, "\n").replace(/\\r/g, "\r").replace(/\\(["\\])/g, "$1")
      : inner;
  }
  // An unquoted value ends at a comment that follows white space.
  return raw.replace(/\s+#.*$/, "");
}

/** What an env file gives the functions, and what was left out of it and why. */
export interface FileEnv {
  /** The file read, relative to the checkout; null when there is none. */
  file: string | null;
  env: Record<string, string>;
  skipped: { name: string; reason: string }[];
}

/**
 * Reads the functions' env file: STACK_ENV_FILE when set, else the first of `.env` and
 * `supabase/functions/.env` (the CLI's default) that exists in the checkout.
 * @throws {StackError} when STACK_ENV_FILE names a missing file or a file is not dotenv
 */
export async function readFunctionEnvFile(
  shell: Record<string, string> = Deno.env.toObject(),
): Promise<FileEnv> {
  const chosen = shell.STACK_ENV_FILE;
  const candidates = chosen ? [chosen] : [".env", join("supabase", "functions", ".env")];
  for (const candidate of candidates) {
    let text: string;
    try {
      text = await Deno.readTextFile(resolve(PROJECT_ROOT, candidate));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      if (chosen) throw new StackError(`STACK_ENV_FILE names "${chosen}", which does not exist`);
      continue;
    }
    let values: Map<string, string>;
    try {
      values = parseEnvText(text);
    } catch (error) {
      throw new StackError(`${candidate}: ${error instanceof Error ? error.message : error}`);
    }
    const env: Record<string, string> = {};
    const skipped: FileEnv["skipped"] = [];
    for (const [name, value] of values) {
      if (SET_BY_STACK.test(name)) skipped.push({ name, reason: "the local stack sets it" });
      else if (name in shell) skipped.push({ name, reason: "set in the shell, which wins" });
      else env[name] = value;
    }
    return { file: candidate, env, skipped };
  }
  return { file: null, env: {}, skipped: [] };
}
