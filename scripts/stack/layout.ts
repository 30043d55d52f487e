/**
 * Where the local stack lives: its ports and its git-ignored folder. The public ports are
 * Supabase's (gateway 54321, database 54322); the rest are internal to this machine.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const STACK_DIR = join(PROJECT_ROOT, ".stack");
export const BIN_DIR = join(PROJECT_ROOT, "scripts", "tools", "node_modules", ".bin");
export const PG_BIN_DIR = "/usr/lib/postgresql/15/bin";

/**
 * STACK_PORT_OFFSET moves every port of the stack by the same amount, so that a second checkout
 * can run a stack of its own beside the first (e.g. 1000: gateway 55321, database 55322).
 */
export const PORT_OFFSET = portOffset(Deno.env.get("STACK_PORT_OFFSET"));

function portOffset(value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  const offset = Number(value);
  if (!Number.isInteger(offset) || offset < 0 || offset > 9000) {
    throw new RangeError(`STACK_PORT_OFFSET must be a whole number from 0 to 9000, got "${value}"`);
  }
  return offset;
}

export const PORTS = {
  gateway: 54321 + PORT_OFFSET,
  postgres: 54322 + PORT_OFFSET,
  postgrest: 54331 + PORT_OFFSET,
  redis: 54332 + PORT_OFFSET,
  upstash: 54333 + PORT_OFFSET,
  /** The read replica (STACK_REPLICA=1): a hot standby, its PostgREST, its API endpoint. */
  replicaPostgres: 54334 + PORT_OFFSET,
  replicaPostgrest: 54335 + PORT_OFFSET,
  replicaGateway: 54336 + PORT_OFFSET,
  /** InfluxDB's HTTP and RPC ports, only while `deno task bench` runs its InfluxDB baseline. */
  influx: 54337 + PORT_OFFSET,
  influxRpc: 54338 + PORT_OFFSET,
  /** Each function gets the next port from here, in config.toml order. */
  firstFunction: 54340 + PORT_OFFSET,
} as const;

/** The legacy HS256 secret of Supabase's local stack (the well-known development default). */
export const JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
export const DB_PASSWORD = "postgres";
export const DB_URL =
  `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:${PORTS.postgres}/postgres?sslmode=disable`;
export const GATEWAY_URL = `http://127.0.0.1:${PORTS.gateway}`;

/**
 * STACK_REPLICA=1: the stack also runs a read replica (scripts/stack/replica.ts) and gives the
 * functions its API endpoint. Unset, the stack is what it always was.
 */
export const REPLICA_ENABLED = Deno.env.get("STACK_REPLICA") === "1";
export const REPLICA_DB_URL =
  `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:${PORTS.replicaPostgres}/postgres?sslmode=disable`;
/** The replica's API endpoint, as a hosted read replica has its own: `/rest/v1` on its port. */
export const REPLICA_API_URL = `http://127.0.0.1:${PORTS.replicaGateway}`;

/** A path inside the stack's folder. */
export function stackPath(...parts: string[]): string {
  return join(STACK_DIR, ...parts);
}
