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

export const PORTS = {
  gateway: 54321,
  postgres: 54322,
  postgrest: 54331,
  redis: 54332,
  upstash: 54333,
  /** Each function gets the next port from here, in config.toml order. */
  firstFunction: 54340,
} as const;

/** The legacy HS256 secret of Supabase's local stack (the well-known development default). */
export const JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
export const DB_PASSWORD = "postgres";
export const DB_URL =
  `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:${PORTS.postgres}/postgres?sslmode=disable`;
export const GATEWAY_URL = `http://127.0.0.1:${PORTS.gateway}`;

/** A path inside the stack's folder. */
export function stackPath(...parts: string[]): string {
  return join(STACK_DIR, ...parts);
}
