// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Registers a device on the local stack and prints its key (shown only here), its owner, a
 * curl example that sends telemetry with the key and a user token that reads it back.
 * The device is made by public.create_device through the gateway with the stack's secret key,
 * the same RPC the `devices` function calls.
 */
import { createDeviceSchema } from "../shared/auth/device_schema.ts";
import { defaultOperatorId, requireRunningStack, runTool } from "./stack/cli.ts";
import { loadKeys, mintUserToken } from "./stack/keys.ts";
import { GATEWAY_URL } from "./stack/layout.ts";
import * as postgres from "./stack/postgres.ts";
import { StackError } from "./stack/processes.ts";

const USAGE = `Usage: deno task device:create NAME [--owner USER_ID | --new-owner] [--env]
  Registers a device named NAME and prints its key (shown only now).
  The owner is this stack's operator (kept in .stack/operator.json; the user \`deno task jwt:mint\`
  mints for by default), so every device made here belongs to one user, unless:
    --owner USER_ID  that user (a uuid), created in auth.users if missing
    --new-owner      a new user
  --env prints only shell assignments (DEVICE_ID, DEVICE_KEY, OWNER_ID, USER_TOKEN), for
    eval "$(deno task -q device:create my-drone --env)"`;

interface Options {
  name: string;
  owner: string | "new" | null;
  asEnv: boolean;
}

/** The options, or the message to print and the exit status when they are not runnable. */
function parseArgs(args: string[]): Options | { message: string; code: number } {
  if (args.includes("--help") || args.includes("-h")) return { message: USAGE, code: 0 };
  const names: string[] = [];
  let owner: Options["owner"] = null;
  let asEnv = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--env") asEnv = true;
    else if (arg === "--new-owner") owner = "new";
    else if (arg === "--owner") {
      const value = args[++i];
      if (value === undefined) return { message: `--owner needs a user id\n${USAGE}`, code: 2 };
      owner = value;
    } else if (arg.startsWith("-")) return { message: `Unknown option ${arg}\n${USAGE}`, code: 2 };
    else names.push(arg);
  }
  if (names.length !== 1) return { message: USAGE, code: 2 };
  return { name: names[0] ?? "", owner, asEnv };
}

async function main(): Promise<number> {
  const options = parseArgs(Deno.args);
  if ("message" in options) {
    (options.code === 0 ? console.log : console.error)(options.message);
    return options.code;
  }
  await requireRunningStack();
  const parsed = createDeviceSchema.safeParse({
    name: options.name,
    owner_id: options.owner === null
      ? await defaultOperatorId()
      : options.owner === "new"
      ? crypto.randomUUID()
      : options.owner,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      `${issue.path.join(".") === "owner_id" ? "--owner" : "NAME"} ${issue.message}`
    );
    console.error(`${problems.join("; ")}\n${USAGE}`);
    return 2;
  }
  const { name, owner_id: ownerId = "" } = parsed.data;
  const keys = await loadKeys();
  await postgres.psql(`insert into auth.users (id) values ('${ownerId}') on conflict do nothing`);

  const response = await fetch(`${GATEWAY_URL}/rest/v1/rpc/create_device`, {
    method: "POST",
    headers: { apikey: keys.secretKey, "content-type": "application/json" },
    body: JSON.stringify({ p_name: name, p_owner_id: ownerId }),
  }).catch(() => {
    throw new StackError(`The gateway at ${GATEWAY_URL} is not answering; is the stack running?`);
  });
  const body: unknown = await response.json().catch(() => null);
  const device = Array.isArray(body) ? body[0] : null;
  if (!response.ok || !device || typeof device.key !== "string") {
    throw new StackError(
      `Creating the device failed (${response.status}): ${JSON.stringify(body)}`,
    );
  }
  const token = await mintUserToken(keys, ownerId, 24 * 3600);
  if (options.asEnv) {
    console.log(
      `DEVICE_ID=${device.id}\nDEVICE_KEY=${device.key}\nOWNER_ID=${ownerId}\nUSER_TOKEN=${token}`,
    );
    return 0;
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
  return 0;
}

await runTool(main);
