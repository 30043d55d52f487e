/**
 * What every function's handler is given: config, logger, database, cache and clock. Built once
 * per isolate in index.ts; tests build their own with real or in-memory parts.
 */
import { type Cache, createDisabledCache, createUpstashCache } from "./cache.ts";
import { type Config, loadConfig } from "./config.ts";
import { callRpcRead, createCallerClient, createServiceClient, type Db } from "./db.ts";
import { createLogger, type Logger } from "./log.ts";
import { createReadRouter, type ReadRouter, type ReplicaStatus } from "./replica.ts";

/** The read replica's clients and the router that says when to use them. */
export interface ReplicaReads {
  router: ReadRouter;
  /** Acts as service_role on the replica. */
  db: Db;
  /** Acts as the caller on the replica (RLS applies). */
  dbAs: (token: string) => Db;
}

export interface Deps {
  config: Config;
  logger: Logger;
  /** Acts as service_role: device traffic and service-only calls. */
  db: Db;
  /** A client acting as the caller whose token is given (RLS applies). */
  dbAs: (token: string) => Db;
  cache: Cache;
  now: () => Date;
  /** Null without SUPABASE_READ_REPLICA_URL: every read goes to the primary. */
  replica: ReplicaReads | null;
}

/** The replica's clients and router, when the config names a replica. */
export function createReplicaReads(config: Config): ReplicaReads | null {
  if (!config.replica) return null;
  const url = config.replica.url;
  const db = createServiceClient(config, url);
  return {
    router: createReadRouter({
      check: (signal) => callRpcRead<ReplicaStatus>(db, "get_replica_status", {}, signal),
      maxLagSeconds: config.replica.maxLagSeconds,
    }),
    db,
    dbAs: (token) => createCallerClient(config, token, url),
  };
}

/**
 * Builds the dependencies from an environment record.
 * @throws {ConfigError} naming every missing or malformed variable
 */
export function createDeps(env: Record<string, string | undefined>, functionName: string): Deps {
  const config = loadConfig(env);
  const logger = createLogger({ function: functionName });
  if (!config.redis) logger.warn("UPSTASH_REDIS_REST_URL is not set: running without a cache");
  return {
    config,
    logger,
    db: createServiceClient(config),
    dbAs: (token) => createCallerClient(config, token),
    cache: config.redis ? createUpstashCache(config.redis, logger) : createDisabledCache(),
    now: () => new Date(),
    replica: createReplicaReads(config),
  };
}
