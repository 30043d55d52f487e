// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * A focused A/B of public.ingest_frames' Postgres CPU: the function as a migration defined it
 * (the "before", copied into a private schema) against the current one, alternating, on the same
 * group bodies that telemetry-parse sends (the real parser and encoder, 25-field NDJSON frames),
 * one call and one commit at a time, counting the CPU (utime + stime from /proc) of the one
 * backend that makes the calls. Stack running; pg_cron's flush is paused meanwhile and the
 * staged rows are deleted after.
 *
 * Usage: deno run --allow-all scripts/bench/ingest_ab.ts [--rounds 5] [--calls 40]
 *          [--shape 500x2,10x25,1x30] [--before supabase/migrations/<file>.sql] [--dead 0]
 * A shape FxR is R requests of F frames in one call (a group, as the batcher makes them).
 * --dead N first stages and deletes N requests while another session holds a snapshot, as a
 * running flush does under constant ingest: staging's low end then holds N recently dead rows
 * that no scan can skip until that snapshot ends (and the watermark is set above them, as the
 * flush that deleted them would have set it).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { createStreamParser } from "../../shared/ingest/parser.ts";
import { createFrameValuesWriter } from "../../shared/ingest/frame_values.ts";
import { encodeGroup, type IngestJob } from "../../shared/ingest/ingest_store.ts";
import { DB_PASSWORD, PORTS, PROJECT_ROOT } from "../stack/layout.ts";
import * as postgres from "../stack/postgres.ts";
import { realisticFrame } from "./frames.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    calls: { type: "string", default: "40" },
    shape: { type: "string", default: "500x2,10x25,1x30" },
    dead: { type: "string", default: "0" },
    before: {
      type: "string",
      default: "supabase/migrations/20261201000090_stage_requests_as_text.sql",
    },
  },
});
const ROUNDS = Number(values.rounds);
const CALLS = Number(values.calls);
const TICKS_PER_SECOND = 100;

const migration = await Deno.readTextFile(join(PROJECT_ROOT, values.before));
const start = migration.search(/create (or replace )?function public\.ingest_frames\(/);
const end = migration.indexOf("comment on function public.ingest_frames(", start);
if (start < 0 || end < 0) throw new Error(`No public.ingest_frames in ${values.before}`);
const before = migration.slice(start, end).replace(
  /create (or replace )?function public\.ingest_frames\(/,
  "create function bench_ab.ingest_frames(",
);

const job = "(select j.jobid from cron.job as j where j.jobname = 'telemetry-flush')";
const owner = crypto.randomUUID();
const devices = Array.from({ length: 64 }, () => crypto.randomUUID());
await postgres.psql(`
  drop schema if exists bench_ab cascade;
  create schema bench_ab;
  revoke all on schema bench_ab from public, anon, authenticated, service_role;
  ${before}
  create table bench_ab.bodies (call integer, fn text, body text);
  insert into auth.users (id, email) values ('${owner}', '${owner}@bench.invalid');
  insert into telemetry.devices (id, owner_id, name, key_hash, key_prefix)
  select d::uuid, '${owner}', 'ingest a/b', encode(sha256(d::bytea), 'hex'), 'dtk_abcdefgh'
  from unnest(array['${devices.join("','")}']) as d;
  select cron.alter_job(${job}, active := false);`);
const keyHashes = new Map(
  (await postgres.psql(`select id, key_hash from telemetry.devices where owner_id = '${owner}'`))
    .split("\n").map((line) => line.split("|") as [string, string]),
);

let nextTime = Date.now() - 6 * 3600_000;

/** One group body, as telemetry-parse's batcher sends it to public.ingest_frames. */
function groupBody(frames: number, requests: number): string {
  const jobs: IngestJob[] = Array.from({ length: requests }, (_, r) => {
    const lines = Array.from({ length: frames }, (_, i) => {
      const time = new Date(nextTime++).toISOString();
      return JSON.stringify(realisticFrame(i, time));
    }).join("\n");
    const parser = createStreamParser({ receivedAt: new Date() });
    const parsed = [...parser.push(lines).frames, ...parser.end().frames];
    const writer = createFrameValuesWriter();
    writer.add(parsed.map((frame) => frame.row));
    const device = devices[r % devices.length] as string;
    return {
      deviceId: device,
      ownerId: owner,
      keyHash: keyHashes.get(device) ?? "",
      idempotencyKey: crypto.randomUUID(),
      rejects: [],
      summary: { accepted: frames, rejected: 0 },
      frameCount: frames,
      frameValues: writer.finish(),
      liveEntries: [],
    };
  });
  const pieces = encodeGroup(jobs);
  const bytes = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    bytes.set(piece, at);
    at += piece.length;
  }
  return new TextDecoder().decode(bytes);
}

function copyEscaped(text: string): string {
  return text.replace(
    /[\\\t\n\r]/g,
    (c) => ({ "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c] ?? "\\\\",
  );
}

/** Makes CALLS new bodies for `fn`, calls them one transaction each: backend µs per frame. */
async function run(fn: string, frames: number, requests: number): Promise<number> {
  const rows = Array.from(
    { length: CALLS },
    (_, call) => `${call}\t${fn}\t${copyEscaped(groupBody(frames, requests))}`,
  );
  await postgres.psql(
    `truncate bench_ab.bodies;\ncopy bench_ab.bodies from stdin;\n${rows.join("\n")}\n\\.\n`,
  );
  const output = await postgres.psql(`
select pg_backend_pid() as pid \\gset
\\setenv BACKEND_PID :pid
\\! awk '{print "cpu_ticks", $14 + $15}' /proc/$BACKEND_PID/stat
do $$
declare
  v_body text;
  v_answer json;
begin
  for v_body in select b.body from bench_ab.bodies as b order by b.call loop
    v_answer := ${fn}(v_body);
    if (v_answer -> 'outcomes' -> 0 ->> 'ok')::boolean is not true then
      raise exception 'ingest refused: %', v_answer;
    end if;
    commit;
  end loop;
end $$;
\\! awk '{print "cpu_ticks", $14 + $15}' /proc/$BACKEND_PID/stat
`);
  const [first, second] = [...output.matchAll(/cpu_ticks (\d+)/g)].map((m) => Number(m[1]));
  if (first === undefined || second === undefined) throw new Error(output);
  return (second - first) / TICKS_PER_SECOND / (CALLS * frames * requests) * 1e6;
}

/** Holds a snapshot (so deleted staging rows stay recently dead) until killed. */
const snapshot: { holder: Deno.ChildProcess | null } = { holder: null };
async function stageDeadRequests(count: number): Promise<void> {
  snapshot.holder = new Deno.Command("psql", {
    args: [
      "-h",
      "127.0.0.1",
      "-p",
      String(PORTS.postgres),
      "-U",
      "postgres",
      "-X",
      "-q",
      "-c",
      "begin isolation level repeatable read; select count(*) from telemetry.devices; " +
      "select pg_sleep(3600);",
    ],
    env: { PGPASSWORD: DB_PASSWORD },
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await postgres.psql(`
    insert into telemetry.telemetry_staging (device_id, frame_count, frames)
    select '${devices[0]}', 1, '{}' from generate_series(1, ${count});
    update telemetry.staging_watermark set moved_through = (
      select max(s.id) from telemetry.telemetry_staging as s where s.device_id = '${devices[0]}');
    delete from telemetry.telemetry_staging where device_id = '${devices[0]}';`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
try {
  if (Number(values.dead) > 0) await stageDeadRequests(Number(values.dead));
  for (const shape of values.shape.split(",")) {
    const [frames, requests] = shape.split("x").map(Number) as [number, number];
    const results = { before: [] as number[], after: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? ["before", "after"] as const : ["after", "before"] as const;
      for (const which of order) {
        const fn = which === "before" ? "bench_ab.ingest_frames" : "public.ingest_frames";
        const us = await run(fn, frames, requests);
        results[which].push(us);
        console.log(`${shape} round ${round}/${ROUNDS} ${which}: ${us.toFixed(1)} µs/frame`);
      }
    }
    const [b, a] = [median(results.before), median(results.after)];
    console.log(
      `${shape} (${frames} frames x ${requests} requests per call), medians of ${ROUNDS}: ` +
        `before ${b.toFixed(1)} µs/frame, now ${a.toFixed(1)}, ratio ${(a / b).toFixed(2)}`,
    );
  }
} finally {
  snapshot.holder?.kill();
  await snapshot.holder?.status;
  await postgres.psql(`
    select cron.alter_job(${job}, active := true);
    delete from telemetry.telemetry_staging
    where device_id in (select d.id from telemetry.devices as d where d.owner_id = '${owner}');
    delete from auth.users where id = '${owner}';
    drop schema bench_ab cascade;`);
}
