/**
 * Everything PostgREST serves to a client, called directly through the gateway's /rest/v1 with
 * hostile arguments, as anon (the public anon key) and as an operator (a user JWT): every limit
 * the API documents must hold there too, since nobody has to go through telemetry-query. The
 * functions and views are listed from the catalogue (every function of `public` but extensions',
 * every relation of `public` a client role may touch), so a new one is covered the day it lands.
 *
 * Each answer must be refused (4xx) or bounded: never a 5xx, at most db-max-rows (1,000) rows,
 * at most MAX_BYTES of body, and back within the role's statement_timeout (8 s) plus slack.
 */
import { assert, assertEquals } from "@std/assert";
import { createDevice, createUser, REST_URL, sendTelemetry, sql, stackKeys } from "./_helpers.ts";

const MAX_ROWS = 1000;
const MAX_BYTES = 4 * 1024 * 1024;
const MAX_MS = 8000 + 3000;

interface Param {
  name: string;
  type: string;
}

interface Exposed {
  name: string;
  params: Param[];
}

/** Functions of public (extensions' left out), with their named input parameters and types. */
async function exposedFunctions(): Promise<Exposed[]> {
  const out = await sql(`
    select p.proname, coalesce((
      select json_agg(json_build_object('name', a.name, 'type', format_type(a.type, null))
                      order by a.n)
      from unnest(p.proargnames, p.proargtypes::oid[]) with ordinality as a (name, type, n)
      where a.name is not null and a.name <> ''), '[]')
    from pg_proc as p
    where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'
      and not exists (select from pg_depend as d where d.classid = 'pg_proc'::regclass
                        and d.objid = p.oid and d.deptype = 'e')
    order by 1`);
  return out.split("\n").filter(Boolean).map((line) => {
    const [name, params] = line.split("|");
    return { name: name!, params: JSON.parse(params!) as Param[] };
  });
}

/** Views and tables of public that anon or authenticated hold any privilege on, with columns. */
async function exposedRelations(): Promise<{ name: string; columns: string[] }[]> {
  const out = await sql(`
    select c.relname, (select json_agg(a.attname order by a.attnum) from pg_attribute as a
                       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped)
    from pg_class as c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v', 'm', 'p', 'f')
      and (has_table_privilege('anon', c.oid, 'select, insert, update, delete')
           or has_table_privilege('authenticated', c.oid, 'select, insert, update, delete'))
    order by 1`);
  return out.split("\n").filter(Boolean).map((line) => {
    const [name, columns] = line.split("|");
    return { name: name!, columns: JSON.parse(columns!) as string[] };
  });
}

/** Hostile values for a parameter of this SQL type. */
function hostileValues(type: string, foreignDevice: string): unknown[] {
  switch (type) {
    case "integer":
    case "smallint":
    case "bigint":
      return [2_147_483_647, -2_147_483_648, 900_000];
    case "double precision":
    case "real":
    case "numeric":
      return [1e308, -1e308, 0];
    case "uuid":
      return [foreignDevice, crypto.randomUUID(), "not-a-uuid"];
    case "text":
      return ["x".repeat(200_000), "roll_degrees", "'; select pg_sleep(30); --"];
    case "text[]":
      return [Array(5000).fill("roll_degrees"), ["id", "no_such_column"]];
    case "jsonb":
    case "json":
      return [Array(100_000).fill(1), ["x", "not a time", "not a uuid"], {
        a: "x".repeat(100_000),
      }];
    case "timestamp with time zone":
      return ["-infinity", "infinity", "0001-01-01T00:00:00Z"];
    case "boolean":
      return [null, "maybe"];
    default:
      return [null];
  }
}

/** Argument sets: each parameter hostile in turn, then all at once, plus the cases. */
function argumentSets(fn: Exposed, foreignDevice: string): Record<string, unknown>[] {
  const sets: Record<string, unknown>[] = [{}];
  for (const param of fn.params) {
    for (const value of hostileValues(param.type, foreignDevice)) {
      sets.push({ [param.name]: value });
    }
  }
  if (fn.params.length > 1) {
    sets.push(Object.fromEntries(
      fn.params.map((p) => [p.name, hostileValues(p.type, foreignDevice)[0]]),
    ));
  }
  if (fn.name === "read_telemetry_page") {
    // Issue 21 §2: what telemetry-query refuses, asked of PostgREST directly.
    sets.push(
      { p_order_by: "roll_degrees", p_limit: 10000, p_count_cap: 2_000_000_000 },
      { p_order_by: "roll_degrees", p_limit: 1000, p_offset: 900_000 },
      { p_order_by: "roll_degrees", p_limit: 1000, p_count_cap: 1000 },
      { p_device_id: foreignDevice, p_order_by: "recorded_at", p_limit: 1000 },
    );
  }
  return sets;
}

interface Caller {
  label: string;
  headers: Record<string, string>;
}

interface Outcome {
  status: number;
  rows: number | null;
  bytes: number;
  ms: number;
  body: string;
}

async function request(url: string, init: RequestInit): Promise<Outcome> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(MAX_MS + 5000) });
  const body = await response.text();
  const ms = performance.now() - started;
  let rows: number | null = null;
  try {
    const parsed = JSON.parse(body);
    if (Array.isArray(parsed)) rows = parsed.length;
    else if (parsed && Array.isArray(parsed.data)) rows = parsed.data.length;
  } catch {
    // not JSON: judged by status and size only
  }
  return { status: response.status, rows, bytes: body.length, ms, body };
}

function judge(what: string, outcome: Outcome): string | null {
  const shown = `${what}: ${outcome.status}, ${outcome.rows ?? "-"} rows, ${outcome.bytes} bytes, ${
    outcome.ms.toFixed(0)
  } ms: ${outcome.body.slice(0, 200)}`;
  if (outcome.status >= 500) return `5xx ${shown}`;
  if (outcome.status >= 400) return null;
  if (outcome.rows !== null && outcome.rows > MAX_ROWS) return `too many rows ${shown}`;
  if (outcome.bytes > MAX_BYTES) return `too large ${shown}`;
  if (outcome.ms > MAX_MS) return `too slow ${shown}`;
  return null;
}

Deno.test("every RPC and view PostgREST exposes refuses or bounds hostile arguments, as anon and as an operator", async () => {
  const keys = await stackKeys();
  const operator = await createUser();
  const device = await createDevice(operator, "exposure drone");
  const stranger = await createDevice(await createUser(), "another tenant's drone");
  const lines = Array.from(
    { length: 50 },
    (_, i) => `roll:${i % 7},alt:${i},ts:2026-11-20T10:00:${String(i).padStart(2, "0")}Z`,
  );
  for (const target of [device, stranger]) {
    const sent = await sendTelemetry(target, lines.join("\n"));
    assertEquals(sent.status, 200, await sent.text());
  }

  const callers: Caller[] = [
    { label: "anon", headers: { apikey: keys.anonKey } },
    {
      label: "operator",
      headers: { apikey: keys.anonKey, authorization: `Bearer ${operator.token}` },
    },
  ];
  const functions = await exposedFunctions();
  const relations = await exposedRelations();
  const names = functions.map((f) => f.name);
  for (const expected of ["read_telemetry_page", "create_device", "get_settings"]) {
    assert(names.includes(expected), `the catalogue lists ${expected}: ${names}`);
  }
  assert(relations.some((r) => r.name === "devices"), "the catalogue lists the devices view");

  const problems: string[] = [];
  let calls = 0;
  for (const caller of callers) {
    for (const fn of functions) {
      for (const args of argumentSets(fn, stranger.id)) {
        const outcome = await request(`${REST_URL}/rpc/${fn.name}`, {
          method: "POST",
          headers: { ...caller.headers, "content-type": "application/json" },
          body: JSON.stringify(args),
        });
        calls++;
        const problem = judge(
          `${caller.label} rpc/${fn.name} ${JSON.stringify(args).slice(0, 120)}`,
          outcome,
        );
        if (problem) problems.push(problem);
      }
    }
    for (const relation of relations) {
      for (const column of relation.columns.slice(0, 40)) {
        const query = `select=*&order=${column}.desc.nullslast&limit=100000&offset=0`;
        const outcome = await request(`${REST_URL}/${relation.name}?${query}`, {
          headers: { ...caller.headers, prefer: "count=exact" },
        });
        calls++;
        const problem = judge(`${caller.label} GET /${relation.name}?${query}`, outcome);
        if (problem) problems.push(problem);
      }
    }
  }
  assertEquals(problems, [], `${problems.length} of ${calls} calls were not refused or bounded`);

  // Nothing of the other tenant moved: its device is still active and still its owner's.
  assertEquals(
    await sql(
      `select revoked_at is null, key_prefix from telemetry.devices where id = '${stranger.id}'`,
    ),
    await sql(
      `select true, key_prefix from telemetry.devices where id = '${stranger.id}'`,
    ),
  );
  assertEquals(
    await sql(`select count(*) from telemetry.devices where owner_id = '${stranger.owner.id}'`),
    "1",
    "no hostile call made a device for the other tenant",
  );
});

Deno.test("the read limits telemetry-query documents answer 400 through PostgREST too", async () => {
  const keys = await stackKeys();
  const operator = await createUser();
  await createDevice(operator, "limits drone");
  const call = async (args: Record<string, unknown>) => {
    const response = await fetch(`${REST_URL}/rpc/read_telemetry_page`, {
      method: "POST",
      headers: {
        apikey: keys.anonKey,
        authorization: `Bearer ${operator.token}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(args),
    });
    return { status: response.status, body: await response.json() };
  };
  for (
    const [args, message] of [
      [{ p_limit: 10000 }, "p_limit must be from 1 to 1000, got 10000"],
      [{ p_offset: 900000 }, "p_offset must be from 0 to 10000 (use p_after beyond), got 900000"],
      [{ p_count_cap: 2000000000 }, "p_count_cap must be from 0 to 1000, got 2000000000"],
    ] as const
  ) {
    const { status, body } = await call(args);
    assertEquals([status, body.message], [400, message], JSON.stringify(args));
  }
  const operatorView = await fetch(`${REST_URL}/telemetry_frames?order=roll_degrees&limit=1`, {
    headers: { apikey: keys.anonKey, authorization: `Bearer ${operator.token}` },
  });
  await operatorView.body?.cancel();
  assertEquals(operatorView.status, 403, "operators cannot sort the frames view by any column");
});
