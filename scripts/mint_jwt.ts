// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Prints a user access token for the local stack, signed like Supabase Auth's (ES256, the
 * stack's JWKS), and makes sure the user exists in auth.users.
 */
import { signHs256 } from "../shared/auth/jwt.ts";
import { defaultOperatorId, requireRunningStack, runTool } from "./stack/cli.ts";
import { loadKeys, mintUserToken, USER_TOKEN_ISSUER } from "./stack/keys.ts";
import * as postgres from "./stack/postgres.ts";

const USAGE = `Usage: deno task jwt:mint [USER_ID] [--ttl SECONDS] [--legacy]
  Prints an access token for USER_ID (a uuid; created in auth.users if missing). Without it, for
  this stack's operator (.stack/operator.json), the owner of the devices \`deno task device:create\`
  makes. The token is ES256, signed like Supabase Auth's; --legacy signs it with the legacy HS256
  secret instead. --ttl: seconds it stays valid (default 3600).`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function main(): Promise<number> {
  const args = [...Deno.args];
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let legacy = false;
  let ttl = 3600;
  const ids: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--legacy") legacy = true;
    else if (arg === "--ttl") ttl = Number(args[++i]);
    else if (arg.startsWith("-")) {
      console.error(`Unknown option ${arg}\n${USAGE}`);
      return 2;
    } else ids.push(arg);
  }
  if (ids.length > 1 || (ids[0] !== undefined && !UUID.test(ids[0]))) {
    console.error(
      `USER_ID must be one uuid, got ${ids.map((id) => `"${id}"`).join(" ")}\n${USAGE}`,
    );
    return 2;
  }
  if (!Number.isInteger(ttl) || ttl <= 0) {
    console.error(`--ttl must be a whole number of seconds above 0\n${USAGE}`);
    return 2;
  }
  await requireRunningStack();
  const userId = (ids[0] ?? await defaultOperatorId()).toLowerCase();
  await postgres.psql(`insert into auth.users (id) values ('${userId}') on conflict do nothing`);
  const keys = await loadKeys();
  const now = Math.floor(Date.now() / 1000);
  const token = legacy
    ? await signHs256({
      sub: userId,
      role: "authenticated",
      aud: "authenticated",
      iss: USER_TOKEN_ISSUER,
      iat: now,
      exp: now + ttl,
    }, keys.jwtSecret)
    : await mintUserToken(keys, userId, ttl);
  console.log(token);
  return 0;
}

await runTool(main);
