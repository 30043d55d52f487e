/**
 * Deps for handler unit tests of paths that must answer before touching the database: every use
 * of `db` or `dbAs` throws, so a test fails loudly if such a path ever reaches them. Anything that
 * does reach Postgres, PostgREST or Redis is tested end to end in tests/integration/ instead.
 */
import { type Cache, createMemoryCache } from "../shared/platform/cache.ts";
import { loadConfig } from "../shared/platform/config.ts";
import type { Db } from "../shared/platform/db.ts";
import type { Deps } from "../shared/platform/deps.ts";
import { createMemoryLogger, type LogFields } from "../shared/platform/log.ts";

/**
 * Builds Deps with a fixed clock, an in-memory cache and a database that refuses every use.
 * @param env variables added to a minimal valid environment (e.g. a JWT secret or a limit)
 */
export function createNoDbDeps(
  env: Record<string, string> = {},
  now: Date = new Date("2026-11-26T12:00:00.000Z"),
): { deps: Deps; logLines: LogFields[]; cache: Cache } {
  const unreachable = (what: string) => {
    throw new Error(`a no-database path used the database (${what})`);
  };
  const db = new Proxy({}, { get: (_target, property) => unreachable(String(property)) });
  const logger = createMemoryLogger();
  const cache = createMemoryCache(() => now.getTime());
  const deps: Deps = {
    config: loadConfig({
      // Port 9 (discard): nothing answers there, and these paths never get that far.
      SUPABASE_URL: "http://127.0.0.1:9",
      SUPABASE_PUBLISHABLE_KEYS: '{"default":"sb_publishable_test"}',
      SUPABASE_SECRET_KEYS: '{"default":"sb_secret_test"}',
      ...env,
    }),
    logger,
    db: db as unknown as Db,
    dbAs: () => unreachable("dbAs"),
    cache,
    now: () => now,
    replica: null,
  };
  return { deps, logLines: logger.lines, cache };
}
