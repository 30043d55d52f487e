// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Prints a user access token for the local stack, signed like Supabase Auth's (ES256, the
 * stack's JWKS), and makes sure the user exists in auth.users.
 * Usage: deno task jwt:mint [user-id] [--ttl seconds] [--legacy]
 *   --legacy signs with the legacy HS256 secret instead.
 */
import { signHs256 } from "../shared/auth/jwt.ts";
import { loadKeys, mintUserToken, USER_TOKEN_ISSUER } from "./stack/keys.ts";
import * as postgres from "./stack/postgres.ts";

const args = [...Deno.args];
const legacy = args.includes("--legacy");
const ttlIndex = args.indexOf("--ttl");
const ttl = ttlIndex >= 0 ? Number(args[ttlIndex + 1]) : 3600;
const userId =
  args.find((arg, i) => !arg.startsWith("--") && !(ttlIndex >= 0 && i === ttlIndex + 1)) ??
    crypto.randomUUID();
if (!/^[0-9a-f-]{36}$/i.test(userId) || !Number.isFinite(ttl)) {
  console.error("Usage: deno task jwt:mint [user-id (a uuid)] [--ttl seconds] [--legacy]");
  Deno.exit(2);
}

await postgres.psql(`insert into auth.users (id) values ('${userId}') on conflict do nothing`);
const keys = await loadKeys();
const now = Math.floor(Date.now() / 1000);
const token = legacy
  ? await signHs256(
    {
      sub: userId,
      role: "authenticated",
      aud: "authenticated",
      iss: USER_TOKEN_ISSUER,
      iat: now,
      exp: now + ttl,
    },
    keys.jwtSecret,
  )
  : await mintUserToken(keys, userId, ttl);
console.log(token);
