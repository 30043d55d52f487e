// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * A focused A/B of the flush's Postgres CPU: telemetry.flush_chunk as a migration defined it (the
 * "before", copied into a private schema) against the current one, alternating, each on its own
 * freshly staged 100,000 25-field frames (500-frame requests, a new device each time), counting
 * the CPU (utime + stime from /proc) of the one backend that runs the flush. Stack running.
 *
 * Usage: deno run --allow-all scripts/bench/flush_ab.ts [--rounds 5] [--shape dense|sparse]
 *          [--before supabase/migrations/20261201000090_stage_requests_as_text.sql]
 * dense: every frame holds `armed` and a GPS fix; sparse: `armed` in 1 frame of 20, a fix in 1
 * of 10 (a device that sends only what changed).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { PROJECT_ROOT } from "../stack/layout.ts";
import * as postgres from "../stack/postgres.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    shape: { type: "string", default: "dense" },
    before: {
      type: "string",
      default: "supabase/migrations/20261201000090_stage_requests_as_text.sql",
    },
  },
});
const ROUNDS = Number(values.rounds);
const SPARSE = values.shape === "sparse";
const FRAMES = 100_000;
const TICKS_PER_SECOND = 100;

const migration = await Deno.readTextFile(join(PROJECT_ROOT, values.before));
const start = migration.search(/create (or replace )?function telemetry\.flush_chunk\(/);
const end = migration.indexOf("grant execute on function telemetry.flush_chunk(", start);
if (start < 0 || end < 0) throw new Error(`No telemetry.flush_chunk in ${values.before}`);
const before = migration.slice(start, end)
  .replace(
    /create (or replace )?function telemetry\.flush_chunk\(/,
    "create function bench_ab.flush_chunk(",
  );

const job = "(select j.jobid from cron.job as j where j.jobname = 'telemetry-flush')";
const owner = crypto.randomUUID();
await postgres.psql(`
  drop schema if exists bench_ab cascade;
  create schema bench_ab;
  revoke all on schema bench_ab from public, anon, authenticated, service_role;
  ${before}
  -- The scheduled flush would move the frames being measured.
  select cron.alter_job(${job}, active := false);
  select pg_terminate_backend(a.pid) from pg_stat_activity as a
  where a.query like '%flush_for%' and a.pid <> pg_backend_pid();
  insert into auth.users (id, email) values ('${owner}', '${owner}@bench.invalid');`);

/** Stages FRAMES frames for a new device, flushes them with `fn`: Postgres µs per frame. */
async function flushOnce(fn: string): Promise<number> {
  const device = crypto.randomUUID();
  const sometimes = (every: number, value: string) =>
    SPARSE ? `case when i % ${every} = 0 then ${value} end` : value;
  await postgres.psql(`
    insert into telemetry.devices (id, owner_id, name, key_hash, key_prefix)
    values ('${device}', '${owner}', 'flush a/b', encode(sha256('${device}'::bytea), 'hex'),
            'dtk_abcdefgh');
    insert into telemetry.telemetry_staging (device_id, created_at, frame_count, frames)
    select '${device}', now(), count(*),
           array_agg(jsonb_populate_record(null::telemetry.frame_values, to_jsonb(r))
             order by r.recorded_at)::text
    from (
      select now() - interval '1 day' + make_interval(secs => i / 10.0) as recorded_at,
             'flight-ab' as flight_id, ${sometimes(20, "true")} as armed, 'AUTO' as flight_mode,
             (i % 20)::real as roll_degrees, (i % 10)::real as pitch_degrees,
             (i % 360)::real as yaw_degrees, (i % 360)::real as heading_degrees,
             1.5::real as roll_rate_dps, 0.5::real as pitch_rate_dps, 0.7::real as yaw_rate_dps,
             3::smallint as gps_fix_type, (9 + i % 5)::smallint as gps_satellites,
             ${sometimes(10, "47.39 + i * 1e-7")} as gps_latitude,
             ${sometimes(10, "8.54 + i * 1e-7")} as gps_longitude,
             480::real as gps_altitude_m, 6.1::real as gps_speed_ms,
             (60 + i % 5)::real as altitude_m, 16.2::real as battery_voltage_v,
             18.5::real as battery_current_a, (100 - i % 100)::real as battery_remaining_percent,
             1500 + i % 50 as motor1_pwm, 1510 + i % 40 as motor2_pwm, 1490 + i % 30 as motor3_pwm,
             1505 + i % 20 as motor4_pwm, i / 500 as request
      from generate_series(0, ${FRAMES - 1}) as i) as r
    group by r.request
    order by r.request;
    checkpoint;`);
  // One psql session: its backend's CPU before and after the flush, read by psql's shell escape.
  const script = await Deno.makeTempFile({ suffix: ".sql" });
  try {
    await Deno.writeTextFile(
      script,
      `select pg_backend_pid() as pid \\gset
\\setenv BACKEND_PID :pid
\\! awk '{print "cpu_ticks", $14 + $15}' /proc/$BACKEND_PID/stat
do $$ begin
  loop
    exit when (select c.rows_moved + c.duplicates_dropped + c.orphans_dropped
               from ${fn}(5000, null) as c) = 0;
  end loop;
end $$;
\\! awk '{print "cpu_ticks", $14 + $15}' /proc/$BACKEND_PID/stat
`,
    );
    const output = await postgres.psql(`\\i ${script}`);
    const [first, second] = [...output.matchAll(/cpu_ticks (\d+)/g)].map((m) => Number(m[1]));
    const moved = await postgres.psql(
      `select count(*) from telemetry.telemetry where device_id = '${device}'`,
    );
    if (Number(moved) !== FRAMES || first === undefined || second === undefined) {
      throw new Error(`The flush moved ${moved} of ${FRAMES} frames (${output})`);
    }
    return (second - first) / TICKS_PER_SECOND / FRAMES * 1e6;
  } finally {
    await Deno.remove(script);
  }
}

const results = { before: [] as number[], after: [] as number[] };
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? ["before", "after"] as const : ["after", "before"] as const;
    for (const which of order) {
      const us = await flushOnce(
        which === "before" ? "bench_ab.flush_chunk" : "telemetry.flush_chunk",
      );
      results[which].push(us);
      console.log(`round ${round}/${ROUNDS} ${which}: ${us.toFixed(1)} µs/frame`);
    }
  }
} finally {
  await postgres.psql(`
    select cron.alter_job(${job}, active := true);
    delete from auth.users where id = '${owner}';
    drop schema bench_ab cascade;`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const [b, a] = [median(results.before), median(results.after)];
console.log(
  `${values.shape}, ${FRAMES} frames, medians of ${ROUNDS}: before (${values.before}) ` +
    `${b.toFixed(1)} µs/frame, now ${a.toFixed(1)}, ratio ${(a / b).toFixed(2)}`,
);
