// deno-lint-ignore-file no-console
/**
 * Registers a device on the local stack and prints its key (shown only here), its owner, a
 * curl example that sends telemetry with the key and a user token that reads it back.
 * Usage: deno task device:create NAME [--owner uuid] [--env]
 *   Without --owner a new user is made; with it, that user is created if missing, else reused.
 *   --env prints only shell assignments (DEVICE_ID, DEVICE_KEY, OWNER_ID, USER_TOKEN), for
 *   `eval "$(deno task -q device:create my-drone --env)"`.
 * The device is made by public.create_device through the gateway with the stack's secret key,
 * the same RPC the `devices` function calls.
 */
import { createDeviceSchema } from "../shared/auth/device_schema.ts";
import { loadKeys, mintUserToken } from "./stack/keys.ts";
import { GATEWAY_URL } from "./stack/layout.ts";
import * as postgres from "./stack/postgres.ts";

const USAGE = "Usage: deno task device:create NAME [--owner uuid] [--env]";

function parseArgs(args: string[]): { name: string; ownerId: string } {
  const ownerIndex = args.indexOf("--owner");
  const ownerArg = ownerIndex >= 0 ? args[ownerIndex + 1] : undefined;
  if (ownerIndex >= 0 && ownerArg === undefined) fail(`--owner needs a user id. ${USAGE}`);
  const rest = args.filter((_, i) => ownerIndex < 0 || (i !== ownerIndex && i !== ownerIndex + 1));
  if (rest.length !== 1 || rest[0]?.startsWith("--")) fail(USAGE);
  const parsed = createDeviceSchema.safeParse({
    name: rest[0],
    owner_id: ownerArg ?? crypto.randomUUID(),
  });
  if (!parsed.success) {
    fail(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; "));
  }
  return { name: parsed.data.name, ownerId: parsed.data.owner_id ?? crypto.randomUUID() };
}

function fail(message: string): never {
  console.error(message);
  Deno.exit(2);
}

const asEnv = Deno.args.includes("--env");
const { name, ownerId } = parseArgs(Deno.args.filter((arg) => arg !== "--env"));
const keys = await loadKeys();
await postgres.psql(`insert into auth.users (id) values ('${ownerId}') on conflict do nothing`);

const response = await fetch(`${GATEWAY_URL}/rest/v1/rpc/create_device`, {
  method: "POST",
  headers: { apikey: keys.secretKey, "content-type": "application/json" },
  body: JSON.stringify({ p_name: name, p_owner_id: ownerId }),
});
const body: unknown = await response.json().catch(() => null);
const device = Array.isArray(body) ? body[0] : null;
if (!response.ok || !device || typeof device.key !== "string") {
  console.error(`Creating the device failed (${response.status}): ${JSON.stringify(body)}`);
  console.error("Is the local stack running? Start it with: deno task stack start");
  Deno.exit(1);
}
const token = await mintUserToken(keys, ownerId, 24 * 3600);
if (asEnv) {
  console.log(
    `DEVICE_ID=${device.id}\nDEVICE_KEY=${device.key}\nOWNER_ID=${ownerId}\nUSER_TOKEN=${token}`,
  );
  Deno.exit(0);
}
const functions = `${GATEWAY_URL}/functions/v1`;

console.log(`Device id:  ${device.id}
Device key: ${device.key}   (shown only now; only its SHA-256 is stored)
Owner id:   ${ownerId}

Send telemetry as the device:
  curl -X POST ${functions}/telemetry-parse \\
    -H "Authorization: Bearer ${device.key}" \\
    -H "Content-Type: text/plain" \\
    -d "roll:15.2,pitch:8.1,yaw:45.0,alt:150,bat_v:12.4,armed:1"

Read it back as the owner (this token is valid for 24 hours):
  export USER_TOKEN=${token}
  curl "${functions}/telemetry-query?device_id=${device.id}&limit=10" \\
    -H "Authorization: Bearer $USER_TOKEN"`);
