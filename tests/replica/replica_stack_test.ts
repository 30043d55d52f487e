/**
 * The stack's read replica (STACK_REPLICA=1): a hot standby that streams from the primary through
 * its replication slot, listed by `stack status` with its replay lag, its URLs in `--env`.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { PORTS, PROJECT_ROOT } from "../../scripts/stack/layout.ts";
import { waitFor } from "../../scripts/stack/processes.ts";
import { sql } from "../integration/_helpers.ts";
import { psqlReplica } from "./_replica.ts";

async function stack(...args: string[]): Promise<string> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "stack", ...args],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  assertEquals(result.code, 0, new TextDecoder().decode(result.stderr));
  return new TextDecoder().decode(result.stdout);
}

Deno.test("stack status lists the replica with its replay lag, and --env prints its URLs", async () => {
  const status = await stack("status");
  assertMatch(
    status,
    new RegExp(
      `^replica: running \\(port ${PORTS.replicaPostgres}, slot stack_replica, ` +
        `replay lag \\d+\\.\\d{3} s\\)$`,
      "m",
    ),
  );
  assertMatch(status, /^replica-postgrest: running$/m);
  const env = await stack("status", "--env");
  assertStringIncludes(
    env,
    `STACK_REPLICA_DB_URL='postgresql://postgres:postgres@127.0.0.1:${PORTS.replicaPostgres}/postgres?sslmode=disable'`,
  );
  assertStringIncludes(
    env,
    `SUPABASE_READ_REPLICA_URL='http://127.0.0.1:${PORTS.replicaGateway}'`,
  );
});

Deno.test("the replica is a hot standby that streams the primary's writes through its slot", async () => {
  assertEquals(await psqlReplica("select pg_is_in_recovery()"), "t");
  assertEquals(
    await sql(
      "select s.active, r.state from pg_replication_slots as s " +
        "join pg_stat_replication as r on r.pid = s.active_pid where s.slot_name = 'stack_replica'",
    ),
    "t|streaming",
  );
  const id = crypto.randomUUID();
  await sql(`insert into auth.users (id, email) values ('${id}', 'replica@example.test')`);
  const started = Date.now();
  await waitFor(
    async () => (await psqlReplica(`select count(*) from auth.users where id = '${id}'`)) === "1",
    5_000,
    "the write to reach the replica",
  );
  assert(Date.now() - started < 5_000);
  // Read only: a standby refuses writes.
  const refused = await psqlReplica(`insert into auth.users (email) values ('x')`).then(
    () => null,
    (error: Error) => error.message,
  );
  assertStringIncludes(refused ?? "", "cannot execute INSERT in a read-only transaction");
});
