/**
 * The local stack's start and stop as a user meets them: a second start changes nothing and says
 * so; stop leaves no process and keeps the data; a taken port is named with its holder and the
 * failed start stops what it had started. Runs after the end-to-end suite, on the same stack,
 * and leaves the stack running as it found it.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { PORTS, PROJECT_ROOT, stackPath } from "../../scripts/stack/layout.ts";
import { isAlive, isListening } from "../../scripts/stack/processes.ts";
import * as postgres from "../../scripts/stack/postgres.ts";

async function stack(command: string): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "stack", command],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

async function recordedPids(): Promise<Map<string, number>> {
  const pids = new Map<string, number>();
  for await (const entry of Deno.readDir(stackPath("run"))) {
    if (!entry.name.endsWith(".pid")) continue;
    const pid = Number((await Deno.readTextFile(stackPath("run", entry.name))).trim());
    pids.set(entry.name.slice(0, -4), pid);
  }
  const postmaster = await Deno.readTextFile(stackPath("postgres", "data", "postmaster.pid"));
  pids.set("postgres", Number(postmaster.split("\n")[0]));
  return pids;
}

const ALL_PORTS = [PORTS.gateway, PORTS.postgres, PORTS.postgrest, PORTS.redis, PORTS.upstash];

Deno.test("stack start while running changes nothing and says so", async () => {
  const before = await recordedPids();
  const { code, output } = await stack("start");
  assertEquals(code, 0);
  assertMatch(output, /already running; nothing was changed/);
  assertEquals(await recordedPids(), before);
});

/** Inode and modification time of PostgREST's config and JWKS files. */
async function postgrestFiles(): Promise<string[]> {
  const stamps: string[] = [];
  for (const name of ["postgrest.conf", "jwks.json"]) {
    const { ino, mtime } = await Deno.stat(stackPath("postgrest", name));
    stamps.push(`${name} ${ino} ${mtime?.getTime()}`);
  }
  return stamps;
}

// PostgREST reads these files again whenever it reconnects or is told to reload its config; one
// caught half written refused every JWT until its next reload (stack/config_file.ts).
Deno.test("stack status and a start while running leave PostgREST's config files untouched", async () => {
  const before = await postgrestFiles();
  assertEquals((await stack("status")).code, 0);
  assertEquals((await stack("start")).code, 0);
  assertEquals(await postgrestFiles(), before);
});

Deno.test("stack stop leaves no process behind and keeps the data", async () => {
  const marker = crypto.randomUUID();
  await postgres.psql(`insert into auth.users (id) values ('${marker}')`);
  const pids = await recordedPids();
  assertEquals((await stack("stop")).code, 0);
  for (const [name, pid] of pids) assertEquals([name, isAlive(pid)], [name, false]);
  for (const port of ALL_PORTS) assertEquals([port, await isListening(port)], [port, false]);
  assertEquals((await stack("start")).code, 0);
  assertEquals(await postgres.psql(`select count(*) from auth.users where id = '${marker}'`), "1");
  await postgres.psql(`delete from auth.users where id = '${marker}'`);
});

Deno.test("stack start names a taken port and its holder, and stops what it had started", async () => {
  assertEquals((await stack("stop")).code, 0);
  const squatter = Deno.listen({ hostname: "127.0.0.1", port: PORTS.redis });
  try {
    const { code, output } = await stack("start");
    assertEquals(code, 1);
    assertMatch(output, new RegExp(`Port ${PORTS.redis}, needed by redis, is already in use by`));
    assertMatch(output, new RegExp(`pid ${Deno.pid}`));
    assertMatch(output, /stopping what this start had started/);
    // PostgreSQL had started before Redis was reached: it must be down again.
    for (const port of ALL_PORTS.filter((p) => p !== PORTS.redis)) {
      assertEquals([port, await isListening(port)], [port, false]);
    }
  } finally {
    squatter.close();
  }
  const { code } = await stack("start");
  assertEquals(code, 0);
  assert(await isListening(PORTS.gateway));
});
