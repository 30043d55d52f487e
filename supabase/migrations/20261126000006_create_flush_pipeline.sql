-- The batching pipeline: ingest writes a whole request into telemetry_staging in one statement;
-- the flush moves staged rows into telemetry in chunks of settings.batch_size, dropping
-- duplicates and keeping the rollups current; every flush run is logged for the status endpoint.
-- public.telemetry_frames reads telemetry and staging together, so a frame is queryable the
-- moment ingest accepted it.

/*
 * telemetry.flush_runs: one row per flush that ran (a flush that found another one running and
 * stepped aside is not logged; a flush killed mid-way rolled back and left no row either).
 * Read by get_batch_status and get_performance_metrics; pruned by the telemetry-prune-history job.
 */
create table telemetry.flush_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  rows_moved bigint not null,
  duplicates_dropped bigint not null,
  orphans_dropped bigint not null,
  chunks integer not null,
  duration_ms double precision not null,
  triggered_by text not null,
  constraint triggered_by_is_known check (triggered_by in ('schedule', 'ingest', 'api'))
);
comment on table telemetry.flush_runs is 'Log of flush runs: rows moved, duplicates dropped, duration.';
comment on column telemetry.flush_runs.rows_moved is 'Rows inserted into telemetry.';
comment on column telemetry.flush_runs.duplicates_dropped is
  'Staged rows whose (device_id, recorded_at) was already stored, removed without inserting.';
comment on column telemetry.flush_runs.orphans_dropped is
  'Staged rows of a device deleted since ingest (its owner was deleted), removed without inserting.';

create index idx_flush_runs_by_started_at on telemetry.flush_runs (started_at);

alter table telemetry.flush_runs enable row level security;
grant select, insert, update, delete on telemetry.flush_runs to service_role;

create policy "Service role manages the flush log"
  on telemetry.flush_runs for all to service_role
  using (true) with check (true);

/*
 * telemetry.flush_chunk(p_limit): moves up to p_limit of the oldest staged rows into telemetry in
 * ONE statement, and returns how many rows it inserted, dropped as duplicates and dropped as
 * orphans. Called by telemetry.run_flush.
 *
 * - Atomic: the DELETE from staging and the INSERT into telemetry are one statement of one
 *   transaction; if the backend is killed, both roll back, so a row is always in exactly one table.
 * - Concurrency-safe: FOR UPDATE SKIP LOCKED hands each staged row to one flush only; a second
 *   flush takes the next rows instead of waiting, and the DELETE ... RETURNING only yields rows
 *   this statement really deleted.
 * - Dedup: ON CONFLICT (device_id, recorded_at) DO NOTHING drops a frame already stored (or
 *   repeated within the chunk); it is counted as a duplicate, not an error.
 * - Rollups are updated from the rows actually inserted, so duplicates never count twice.
 */
create function telemetry.flush_chunk(p_limit integer)
returns table (rows_moved bigint, duplicates_dropped bigint, orphans_dropped bigint)
language sql
volatile
set search_path = ''
as $$
  with picked as (
    select s.id
    from telemetry.telemetry_staging as s
    order by s.id
    limit p_limit
    for update skip locked
  ),
  moved as (
    delete from telemetry.telemetry_staging as s
    using picked as p
    where s.id = p.id
    returning s.*
  ),
  inserted as (
    -- telemetry_staging is created LIKE telemetry, so m.* lists the same columns in the same
    -- order (schema/staging_matches_telemetry.test.sql guards it). The staging id is kept, so a
    -- frame has the same id before and after the flush.
    insert into telemetry.telemetry
    select m.*
    from moved as m
    where exists (select from telemetry.devices as d where d.id = m.device_id)
    -- Key order: two flushes inserting the same keys wait on each other in the same order.
    order by m.device_id, m.recorded_at, m.id
    on conflict (device_id, recorded_at) do nothing
    returning device_id,
              recorded_at,
              coalesce(altitude_m, baro_altitude_m, gps_altitude_m) as altitude_m,
              battery_voltage_v,
              coalesce(groundspeed_ms, gps_speed_ms) as groundspeed_ms,
              armed
  ),
  hourly as (
    insert into telemetry.hourly_rollups as r (
      device_id, bucket_start, frames, altitude_samples, altitude_sum_m, altitude_min_m,
      altitude_max_m, battery_voltage_min_v, groundspeed_max_ms, armed_frames, first_armed_at,
      last_armed_at, first_frame_at, last_frame_at
    )
    select i.device_id,
           date_trunc('hour', i.recorded_at, 'UTC'),
           count(*),
           count(i.altitude_m),
           coalesce(sum(i.altitude_m), 0),
           min(i.altitude_m),
           max(i.altitude_m),
           min(i.battery_voltage_v),
           max(i.groundspeed_ms),
           count(*) filter (where i.armed),
           min(i.recorded_at) filter (where i.armed),
           max(i.recorded_at) filter (where i.armed),
           min(i.recorded_at),
           max(i.recorded_at)
    from inserted as i
    group by 1, 2
    -- The same order in every flush, so two flushes never lock rollup rows in opposite orders.
    order by 1, 2
    on conflict (device_id, bucket_start) do update
    set frames = r.frames + excluded.frames,
        altitude_samples = r.altitude_samples + excluded.altitude_samples,
        altitude_sum_m = r.altitude_sum_m + excluded.altitude_sum_m,
        altitude_min_m = least(r.altitude_min_m, excluded.altitude_min_m),
        altitude_max_m = greatest(r.altitude_max_m, excluded.altitude_max_m),
        battery_voltage_min_v = least(r.battery_voltage_min_v, excluded.battery_voltage_min_v),
        groundspeed_max_ms = greatest(r.groundspeed_max_ms, excluded.groundspeed_max_ms),
        armed_frames = r.armed_frames + excluded.armed_frames,
        first_armed_at = least(r.first_armed_at, excluded.first_armed_at),
        last_armed_at = greatest(r.last_armed_at, excluded.last_armed_at),
        first_frame_at = least(r.first_frame_at, excluded.first_frame_at),
        last_frame_at = greatest(r.last_frame_at, excluded.last_frame_at),
        updated_at = now()
    returning 1
  ),
  daily as (
    insert into telemetry.daily_rollups as r (
      device_id, bucket_start, frames, altitude_samples, altitude_sum_m, altitude_min_m,
      altitude_max_m, battery_voltage_min_v, groundspeed_max_ms, armed_frames, first_armed_at,
      last_armed_at, first_frame_at, last_frame_at
    )
    select i.device_id,
           date_trunc('day', i.recorded_at, 'UTC'),
           count(*),
           count(i.altitude_m),
           coalesce(sum(i.altitude_m), 0),
           min(i.altitude_m),
           max(i.altitude_m),
           min(i.battery_voltage_v),
           max(i.groundspeed_ms),
           count(*) filter (where i.armed),
           min(i.recorded_at) filter (where i.armed),
           max(i.recorded_at) filter (where i.armed),
           min(i.recorded_at),
           max(i.recorded_at)
    from inserted as i
    group by 1, 2
    -- The same order in every flush, so two flushes never lock rollup rows in opposite orders.
    order by 1, 2
    on conflict (device_id, bucket_start) do update
    set frames = r.frames + excluded.frames,
        altitude_samples = r.altitude_samples + excluded.altitude_samples,
        altitude_sum_m = r.altitude_sum_m + excluded.altitude_sum_m,
        altitude_min_m = least(r.altitude_min_m, excluded.altitude_min_m),
        altitude_max_m = greatest(r.altitude_max_m, excluded.altitude_max_m),
        battery_voltage_min_v = least(r.battery_voltage_min_v, excluded.battery_voltage_min_v),
        groundspeed_max_ms = greatest(r.groundspeed_max_ms, excluded.groundspeed_max_ms),
        armed_frames = r.armed_frames + excluded.armed_frames,
        first_armed_at = least(r.first_armed_at, excluded.first_armed_at),
        last_armed_at = greatest(r.last_armed_at, excluded.last_armed_at),
        first_frame_at = least(r.first_frame_at, excluded.first_frame_at),
        last_frame_at = greatest(r.last_frame_at, excluded.last_frame_at),
        updated_at = now()
    returning 1
  )
  select (select count(*) from inserted),
         (select count(*) from moved)
           - (select count(*) from inserted)
           - (select count(*) from moved as m
              where not exists (select from telemetry.devices as d where d.id = m.device_id)),
         (select count(*) from moved as m
          where not exists (select from telemetry.devices as d where d.id = m.device_id))
$$;
comment on function telemetry.flush_chunk(integer) is
  'Moves up to p_limit staged rows into telemetry in one statement (dedup, rollups). Internal.';
grant execute on function telemetry.flush_chunk(integer) to service_role;

/*
 * telemetry.staged_count(p_cap): rows waiting in staging, capped at p_cap when one is given.
 * Called by every ingest (pending_records, and whether a batch is full), by the flush and by the
 * status endpoint.
 *
 * Counted from the primary key's two ends, not by scanning: a scan costs what the backlog holds
 * (measured at 4.5 ms per ingest with tens of thousands of rows staged under load), just when
 * ingest can least afford it. Staged ids come from one identity and the flush takes the lowest
 * first, so the rows form one run and max(id) - min(id) + 1 is their number. It over-counts only
 * by ids that never became visible rows (an ingest rolled back between two committed ones) until
 * the flush passes them, which at worst starts a flush a little early.
 */
create function telemetry.staged_count(p_cap bigint default null)
returns bigint
language sql
stable
set search_path = ''
as $$
  select least(coalesce(max(s.id) - min(s.id) + 1, 0), coalesce(p_cap, 9223372036854775807))
  from telemetry.telemetry_staging as s
$$;
grant execute on function telemetry.staged_count(bigint) to service_role;

/*
 * telemetry.run_flush(p_max_rows, p_triggered_by): one flush run. Moves the rows staged when it
 * starts (at most p_max_rows), chunk by chunk, logs the run in flush_runs and returns
 * {run_id, skipped, rows_moved, duplicates_dropped, orphans_dropped, chunks, started_at,
 * finished_at, duration_ms, pending_records}.
 *
 * Only one flush runs at a time: the others get pg_try_advisory_xact_lock = false and return at
 * once with skipped = true (the running flush moves their rows). That keeps ingest callers from
 * ever waiting for each other, and keeps two flushes from taking rollup rows in opposite orders
 * across chunks. Row safety itself does not depend on the lock (see flush_chunk).
 */
create function telemetry.run_flush(p_max_rows integer, p_triggered_by text)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_started timestamptz := clock_timestamp();
  v_finished timestamptz;
  v_batch_size integer;
  v_target bigint;
  v_chunk record;
  v_moved bigint := 0;
  v_duplicates bigint := 0;
  v_orphans bigint := 0;
  v_chunks integer := 0;
  v_run_id bigint;
begin
  -- GUARD
  if p_max_rows is not null and p_max_rows < 1 then
    raise exception 'p_max_rows must be at least 1, got %', p_max_rows using errcode = '22023';
  end if;

  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('telemetry.flush', 0)) then
    return jsonb_build_object(
      'run_id', null, 'skipped', true, 'reason', 'another flush is running',
      'rows_moved', 0, 'duplicates_dropped', 0, 'orphans_dropped', 0, 'chunks', 0,
      'started_at', v_started, 'finished_at', clock_timestamp(),
      'duration_ms', 0, 'pending_records', telemetry.staged_count(null));
  end if;

  select s.batch_size into strict v_batch_size from telemetry.settings as s where s.id;
  -- What is staged now: a flush under a constant stream of ingests still ends.
  v_target := coalesce(p_max_rows, telemetry.staged_count(null));

  -- MOVE
  while v_moved + v_duplicates + v_orphans < v_target loop
    select * into v_chunk
    from telemetry.flush_chunk(least(v_batch_size, v_target - v_moved - v_duplicates - v_orphans)::integer);
    exit when v_chunk.rows_moved + v_chunk.duplicates_dropped + v_chunk.orphans_dropped = 0;
    v_moved := v_moved + v_chunk.rows_moved;
    v_duplicates := v_duplicates + v_chunk.duplicates_dropped;
    v_orphans := v_orphans + v_chunk.orphans_dropped;
    v_chunks := v_chunks + 1;
  end loop;

  -- LOG
  v_finished := clock_timestamp();
  insert into telemetry.flush_runs (
    started_at, finished_at, rows_moved, duplicates_dropped, orphans_dropped, chunks, duration_ms,
    triggered_by
  )
  values (
    v_started, v_finished, v_moved, v_duplicates, v_orphans, v_chunks,
    extract(epoch from v_finished - v_started) * 1000, p_triggered_by
  )
  returning id into v_run_id;

  return jsonb_build_object(
    'run_id', v_run_id, 'skipped', false,
    'rows_moved', v_moved, 'duplicates_dropped', v_duplicates, 'orphans_dropped', v_orphans,
    'chunks', v_chunks, 'started_at', v_started, 'finished_at', v_finished,
    'duration_ms', round((extract(epoch from v_finished - v_started) * 1000)::numeric, 3),
    'pending_records', telemetry.staged_count(null));
end;
$$;
comment on function telemetry.run_flush(integer, text) is
  'One flush run: moves staged rows in chunks, logs it. Called by the public RPCs and pg_cron.';
grant execute on function telemetry.run_flush(integer, text) to service_role;

/*
 * public.flush_telemetry(p_max_rows): flushes now (the flush endpoint). Returns the run as
 * telemetry.run_flush describes it; skipped = true when a flush was already running.
 * service_role only.
 */
create function public.flush_telemetry(p_max_rows integer default null)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  select telemetry.run_flush(p_max_rows, 'api')
$$;
comment on function public.flush_telemetry(integer) is
  'Moves staged frames into telemetry now; returns rows_moved, duplicates_dropped, duration_ms. service_role only.';
grant execute on function public.flush_telemetry(integer) to service_role;

/*
 * telemetry.stage_frames(p_groups): inserts frames into staging in ONE statement and returns how
 * many. p_groups is a JSON array of {device_id, frames}; frames are objects keyed by column
 * name (other keys are ignored, so callers put unknown keys in "extra"). created_at is the
 * transaction's time; recorded_at defaults to it. Used by ingest_telemetry (one device) and by
 * ingest_batch (a group of requests). Internal.
 */
create function telemetry.stage_frames(p_groups jsonb)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_count bigint;
begin
  insert into telemetry.telemetry_staging (
    device_id, recorded_at, created_at, flight_id, flight_mode, armed, flight_time_seconds,
    cpu_load_percent, roll_degrees, pitch_degrees, yaw_degrees, heading_degrees, roll_rate_dps,
    pitch_rate_dps, yaw_rate_dps, accel_x_ms2, accel_y_ms2, accel_z_ms2, gps_fix_type,
    gps_satellites, gps_latitude, gps_longitude, gps_altitude_m, gps_speed_ms,
    gps_course_degrees, gps_hdop, gps_vdop, baro_altitude_m, baro_pressure_pa,
    baro_temperature_c, altitude_m, battery_voltage_v, battery_current_a, battery_consumed_mah,
    battery_remaining_percent, motor1_pwm, motor2_pwm, motor3_pwm, motor4_pwm, motor5_pwm,
    motor6_pwm, motor7_pwm, motor8_pwm, pid_roll_p, pid_roll_i, pid_roll_d, pid_pitch_p,
    pid_pitch_i, pid_pitch_d, pid_yaw_p, pid_yaw_i, pid_yaw_d, rc_roll, rc_pitch, rc_throttle,
    rc_yaw, rc_aux1, rc_aux2, rc_aux3, rc_aux4, velocity_x_ms, velocity_y_ms, velocity_z_ms,
    position_x_m, position_y_m, position_z_m, magnetometer_x, magnetometer_y, magnetometer_z,
    temperature_c, humidity_percent, failsafe_active, vibration_x, vibration_y, vibration_z,
    airspeed_ms, groundspeed_ms, climb_rate_ms, throttle_percent, rssi_percent, raw_data,
    parser_version, data_source, extra
  )
  select c.device_id, coalesce(f.recorded_at, now()), now(), f.flight_id, f.flight_mode,
         f.armed, f.flight_time_seconds, f.cpu_load_percent, f.roll_degrees, f.pitch_degrees,
         f.yaw_degrees, f.heading_degrees, f.roll_rate_dps, f.pitch_rate_dps, f.yaw_rate_dps,
         f.accel_x_ms2, f.accel_y_ms2, f.accel_z_ms2, f.gps_fix_type, f.gps_satellites,
         f.gps_latitude, f.gps_longitude, f.gps_altitude_m, f.gps_speed_ms,
         f.gps_course_degrees, f.gps_hdop, f.gps_vdop, f.baro_altitude_m, f.baro_pressure_pa,
         f.baro_temperature_c, f.altitude_m, f.battery_voltage_v, f.battery_current_a,
         f.battery_consumed_mah, f.battery_remaining_percent, f.motor1_pwm, f.motor2_pwm,
         f.motor3_pwm, f.motor4_pwm, f.motor5_pwm, f.motor6_pwm, f.motor7_pwm, f.motor8_pwm,
         f.pid_roll_p, f.pid_roll_i, f.pid_roll_d, f.pid_pitch_p, f.pid_pitch_i, f.pid_pitch_d,
         f.pid_yaw_p, f.pid_yaw_i, f.pid_yaw_d, f.rc_roll, f.rc_pitch, f.rc_throttle, f.rc_yaw,
         f.rc_aux1, f.rc_aux2, f.rc_aux3, f.rc_aux4, f.velocity_x_ms, f.velocity_y_ms,
         f.velocity_z_ms, f.position_x_m, f.position_y_m, f.position_z_m, f.magnetometer_x,
         f.magnetometer_y, f.magnetometer_z, f.temperature_c, f.humidity_percent,
         f.failsafe_active, f.vibration_x, f.vibration_y, f.vibration_z, f.airspeed_ms,
         f.groundspeed_ms, f.climb_rate_ms, f.throttle_percent, f.rssi_percent, f.raw_data,
         f.parser_version, f.data_source, f.extra
  from jsonb_to_recordset(p_groups) as c (device_id uuid, frames jsonb)
  cross join lateral jsonb_populate_recordset(null::telemetry.telemetry_staging, c.frames) as f;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
comment on function telemetry.stage_frames(jsonb) is
  'Inserts frames of one or more devices into staging in one statement. Internal.';
grant execute on function telemetry.stage_frames(jsonb) to service_role;

/*
 * telemetry.flush_when_full(): what an ingest does after storing: when the staged rows fill a
 * batch, it flushes (at most 4 batches), unless another flush is running: pg_try_advisory_xact_lock
 * never waits, so concurrent ingests never wait on each other. A failing flush never fails the
 * ingest (it runs in a subtransaction; the rows stay staged). Returns {pending_records,
 * batch_size, batch_full, flush_triggered}; pending_records is counted after any flush.
 */
create function telemetry.flush_when_full()
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_batch_size integer;
  v_pending bigint;
  v_flush jsonb;
begin
  select s.batch_size into strict v_batch_size from telemetry.settings as s where s.id;
  v_pending := telemetry.staged_count(v_batch_size * 100);
  if v_pending >= v_batch_size then
    begin
      v_flush := telemetry.run_flush(v_batch_size * 4, 'ingest');
      v_pending := telemetry.staged_count(v_batch_size * 100);
    exception when others then
      raise warning 'flush after ingest failed, frames stay staged: % (%)', sqlerrm, sqlstate;
    end;
  end if;
  return jsonb_build_object(
    'pending_records', v_pending,
    'batch_size', v_batch_size,
    'batch_full', v_pending >= v_batch_size,
    'flush_triggered', coalesce(not (v_flush ->> 'skipped')::boolean, false)
  );
end;
$$;
comment on function telemetry.flush_when_full() is
  'After an ingest: flushes when a batch is full, never waiting for another flush. Internal.';
grant execute on function telemetry.flush_when_full() to service_role;

/*
 * public.ingest_telemetry(p_device_id, p_frames): stores the frames of one request in ONE
 * INSERT into telemetry_staging: once it returns, the frames are durable and queryable.
 * p_frames is a JSON array of objects keyed by column name (catalogue fields, recorded_at,
 * flight_id, raw_data, parser_version, data_source, extra); other keys are ignored, so the
 * caller puts unknown keys in "extra". recorded_at defaults to the receive time (created_at).
 *
 * When the staged rows reach batch_size it flushes (telemetry.flush_when_full: never waiting for
 * another flush, never failing the ingest).
 *
 * Returns {accepted, pending_records, batch_size, batch_full, flush_triggered}; pending_records is
 * counted after any flush. service_role only.
 */
create function public.ingest_telemetry(p_device_id uuid, p_frames jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_accepted bigint;
begin
  -- GUARD
  if jsonb_typeof(p_frames) is distinct from 'array' then
    raise exception 'p_frames must be a JSON array, got %', coalesce(jsonb_typeof(p_frames), 'null')
      using errcode = '22023';
  end if;
  if jsonb_array_length(p_frames) > 10000 then
    raise exception 'p_frames holds % frames, at most 10000 are allowed per request',
      jsonb_array_length(p_frames) using errcode = '22023';
  end if;
  perform from telemetry.devices as d where d.id = p_device_id and d.revoked_at is null;
  if not found then
    raise exception 'device "%" not found or revoked', p_device_id using errcode = 'P0002';
  end if;

  -- STORE
  v_accepted := telemetry.stage_frames(
    jsonb_build_array(jsonb_build_object('device_id', p_device_id, 'frames', p_frames)));

  return jsonb_build_object('accepted', v_accepted) || telemetry.flush_when_full();
end;
$$;
comment on function public.ingest_telemetry(uuid, jsonb) is
  'Stores a request''s frames in one statement; flushes when a batch is full. service_role only.';
grant execute on function public.ingest_telemetry(uuid, jsonb) to service_role;

/*
 * public.get_batch_status(): the state of the pipeline for the status endpoint:
 * {pending_records, batch_size, batch_full, oldest_pending_age_seconds,
 *  last_flush: {started_at, finished_at, rows_moved, duplicates_dropped, duration_ms} | null,
 *  flush_schedule}.
 *
 * security definer: it counts the staged rows of every tenant, which an authenticated caller
 * cannot read under RLS; it returns counts and times only, never a row or a device id, so it
 * tells no tenant anything about another's data.
 */
create function public.get_batch_status()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_batch_size integer;
  v_pending bigint := telemetry.staged_count(null);
  v_oldest timestamptz;
  v_last_flush jsonb;
  v_schedule text;
begin
  select s.batch_size into strict v_batch_size from telemetry.settings as s where s.id;

  select s.created_at into v_oldest
  from telemetry.telemetry_staging as s
  order by s.id
  limit 1;

  select jsonb_build_object(
           'started_at', r.started_at, 'finished_at', r.finished_at, 'rows_moved', r.rows_moved,
           'duplicates_dropped', r.duplicates_dropped, 'duration_ms', r.duration_ms)
  into v_last_flush
  from telemetry.flush_runs as r
  order by r.id desc
  limit 1;

  -- pg_cron may be absent (a project without it); the schedule is then null.
  if to_regclass('cron.job') is not null then
    execute 'select j.schedule from cron.job as j where j.jobname = $1'
      into v_schedule using 'telemetry-flush';
  end if;

  return jsonb_build_object(
    'pending_records', v_pending,
    'batch_size', v_batch_size,
    'batch_full', v_pending >= v_batch_size,
    'oldest_pending_age_seconds',
      round(extract(epoch from clock_timestamp() - v_oldest)::numeric, 3),
    'last_flush', v_last_flush,
    'flush_schedule', v_schedule
  );
end;
$$;
comment on function public.get_batch_status() is
  'Pipeline counts for the status endpoint (no tenant data). authenticated and service_role.';
grant execute on function public.get_batch_status() to authenticated, service_role;

/*
 * public.telemetry_frames: every frame the caller may see, flushed or still staged, each
 * (device_id, recorded_at) once: a staged row is hidden when telemetry already has its key (the
 * flush will drop it as a duplicate) or an older staged row has it. security_invoker, so the RLS
 * of telemetry and telemetry_staging applies: owners see their devices' frames, anon nothing.
 */
create view public.telemetry_frames
with (security_invoker = true)
as
select t.*
from telemetry.telemetry as t
union all
select s.*
from telemetry.telemetry_staging as s
where not exists (
    select from telemetry.telemetry as t
    where t.device_id = s.device_id and t.recorded_at = s.recorded_at)
  and not exists (
    select from telemetry.telemetry_staging as e
    where e.device_id = s.device_id and e.recorded_at = s.recorded_at and e.id < s.id);
comment on view public.telemetry_frames is
  'Frames of the caller''s devices, flushed or staged, deduplicated on (device_id, recorded_at).';
revoke all on public.telemetry_frames from public, anon, authenticated, service_role;
grant select on public.telemetry_frames to authenticated, service_role;
