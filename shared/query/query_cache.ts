/**
 * Names of the query cache's keys, shared by the side that reads the cache (telemetry-query) and
 * the side that invalidates it (ingest). Invalidation is by generation: ingest bumps a counter per
 * owner and one for everyone, and every cached answer's key carries the generation it was computed
 * at, so after a bump no reader looks at an older entry again (they expire with their TTL).
 *
 * A user's answers depend only on their own devices' frames, so they hang off the owner's
 * counter; service role sees every tenant, so its answers hang off the global one. The scope is
 * part of every key, so two tenants never read each other's entries.
 */
import { type Budget, cacheKey } from "../platform/cache.ts";

/** Whose answers an entry holds: one user (RLS-filtered) or service role (everything). */
export type QueryScope = { kind: "user"; userId: string } | { kind: "service" };

/** The generation counter of one owner's frames. */
export function ownerGenerationKey(ownerId: string): string {
  return cacheKey("gen", "owner", ownerId);
}

/** The generation counter of all frames (bumped by every ingest). */
export const ALL_GENERATION_KEY: string = cacheKey("gen", "all");

/**
 * The counters an ingest for a device of this owner must bump once its frames are committed
 * (shared/ingest/ingest_store.ts passes them to `cache.addToCounters` as bumps).
 */
export function generationKeys(ownerId: string): [string, string] {
  return [ownerGenerationKey(ownerId), ALL_GENERATION_KEY];
}

/** The counter a scope's answers depend on. */
export function scopeGenerationKey(scope: QueryScope): string {
  return scope.kind === "user" ? ownerGenerationKey(scope.userId) : ALL_GENERATION_KEY;
}

/** The scope's part of a cache key: "user:<uid>" or "service". */
export function scopeName(scope: QueryScope): string {
  return scope.kind === "user" ? `user:${scope.userId}` : "service";
}

/**
 * The key of one cached query answer.
 * @param generation the scope's counter as read from the cache ("0" when it was never bumped)
 * @param paramsHash SHA-256 hex of the normalised query parameters
 */
export function queryCacheKey(scope: QueryScope, generation: string, paramsHash: string): string {
  return cacheKey("query", scopeName(scope), generation, paramsHash);
}

/** What comes before the generation in a scope's query keys (see Cache.getAtGeneration). */
export function queryCacheKeyPrefix(scope: QueryScope): string {
  return cacheKey("query", scopeName(scope), "");
}

/**
 * The byte budgets a new cached answer is charged to (issue 21 §6): its scope's and everyone's,
 * per window of the cache's TTL. An entry lives at most one TTL, so the entries alive at any
 * time were stored in this window or the one before: at most twice each budget.
 */
export function queryCacheBudgets(
  scope: QueryScope,
  now: Date,
  limits: { ttlSeconds: number; perScopeBytes: number; totalBytes: number },
): Budget[] {
  const window = String(Math.floor(now.getTime() / (limits.ttlSeconds * 1000)));
  const ttlSeconds = limits.ttlSeconds * 2;
  return [
    {
      key: cacheKey("query-budget", scopeName(scope), window),
      limit: limits.perScopeBytes,
      ttlSeconds,
    },
    { key: cacheKey("query-budget", "all", window), limit: limits.totalBytes, ttlSeconds },
  ];
}
