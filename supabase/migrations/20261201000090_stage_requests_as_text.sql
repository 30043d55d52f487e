-- Staging one row per request: the storage path that costs the database less than writing each
-- frame straight into telemetry.
--
-- Measured before this change (issue 7): the group ingest parsed its jsonb argument, rebuilt it
-- twice with jsonb_agg, inserted one staging row per frame and flushed inline when a batch was
-- full, 141 µs of database CPU per frame at 500 frames per request against 55 µs for the naive
-- PostgREST insert. Now:
-- - telemetry-parse sends a whole group of requests as ONE raw text parameter
--   (public.ingest_frames(text)): PostgREST hands the body over without parsing it, and each
--   request's frames are stored as the text the function wrote (a frame_values[] literal), one
--   staging row per request. Only each request's small header is parsed at ingest.
-- - The flush unpacks the staged requests set-based (unnest of the literal) into the
--   partitioned, indexed telemetry table, out of the device's transaction: pg_cron keeps it
--   running, and the function starts one after answering when a batch is full. In the same
--   statement it keeps the rollups (with distance flown and time armed), the flights and the
--   device tracks current from the rows it inserted, with one window pass; it drops requests of
--   deleted devices before unpacking them and inserts in staging order, without a sort.
-- - public.telemetry_frames unpacks the caller's staged requests, so a frame is queryable the
--   moment it was acknowledged, as before.

-- MOVE every frame the old staging table holds into telemetry first: accepted means durable.
do $$
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('telemetry.flush', 0));
  perform telemetry.run_flush(null, 'api');
  if exists (select from telemetry.telemetry_staging) then
    raise exception 'telemetry_staging still holds rows after the flush; not replacing it';
  end if;
end;
$$;

-- Flights of the frames stored so far (the flush above included), so a query by flight finds
-- them (read_telemetry_page narrows to a flight's times): their times and frames, without
-- distance or armed time, which the flush counts from now on.
insert into telemetry.flights (device_id, flight_id, started_at, ended_at, frames, distance_m, armed_seconds)
select t.device_id, t.flight_id, min(t.recorded_at), max(t.recorded_at), count(*), 0, 0
from telemetry.telemetry as t
where t.flight_id is not null
group by t.device_id, t.flight_id;

drop view public.telemetry_frames;
drop function public.ingest_batch(jsonb);
drop function telemetry.ingest_batch_each(jsonb);
drop function telemetry.ingest_batch_set(jsonb);
drop function public.ingest_telemetry(uuid, jsonb);
drop function telemetry.flush_when_full();
drop function telemetry.stage_frames(jsonb);
drop table telemetry.telemetry_staging;

/*
 * telemetry.frame_values: one frame's values in the order of telemetry's columns (without id,
 * device_id and created_at, which the staging row carries). Staged frames are a Postgres array
 * literal of this type, e.g. {"(,\"2026-11-26T10:00:00Z\",AUTO,t,...)",...}: unpacking one
 * with unnest(frames::telemetry.frame_values[]) runs each column's own input function, as COPY
 * does, about 2.5 times cheaper than json_populate_recordset, which builds a hash of every
 * object's keys. telemetry-parse writes the literal (shared/ingest/frame_values.ts); a test checks that
 * its column order is this type's.
 */
create type telemetry.frame_values as (
  flight_id text,
  recorded_at timestamp with time zone,
  flight_mode text,
  armed boolean,
  flight_time_seconds real,
  cpu_load_percent real,
  roll_degrees real,
  pitch_degrees real,
  yaw_degrees real,
  heading_degrees real,
  roll_rate_dps real,
  pitch_rate_dps real,
  yaw_rate_dps real,
  accel_x_ms2 real,
  accel_y_ms2 real,
  accel_z_ms2 real,
  gps_fix_type smallint,
  gps_satellites smallint,
  gps_latitude double precision,
  gps_longitude double precision,
  gps_altitude_m real,
  gps_speed_ms real,
  gps_course_degrees real,
  gps_hdop real,
  gps_vdop real,
  baro_altitude_m real,
  baro_pressure_pa real,
  baro_temperature_c real,
  altitude_m real,
  battery_voltage_v real,
  battery_current_a real,
  battery_consumed_mah real,
  battery_remaining_percent real,
  motor1_pwm integer,
  motor2_pwm integer,
  motor3_pwm integer,
  motor4_pwm integer,
  motor5_pwm integer,
  motor6_pwm integer,
  motor7_pwm integer,
  motor8_pwm integer,
  pid_roll_p real,
  pid_roll_i real,
  pid_roll_d real,
  pid_pitch_p real,
  pid_pitch_i real,
  pid_pitch_d real,
  pid_yaw_p real,
  pid_yaw_i real,
  pid_yaw_d real,
  rc_roll real,
  rc_pitch real,
  rc_throttle real,
  rc_yaw real,
  rc_aux1 real,
  rc_aux2 real,
  rc_aux3 real,
  rc_aux4 real,
  velocity_x_ms real,
  velocity_y_ms real,
  velocity_z_ms real,
  position_x_m real,
  position_y_m real,
  position_z_m real,
  magnetometer_x real,
  magnetometer_y real,
  magnetometer_z real,
  temperature_c real,
  humidity_percent real,
  failsafe_active boolean,
  vibration_x real,
  vibration_y real,
  vibration_z real,
  airspeed_ms real,
  groundspeed_ms real,
  climb_rate_ms real,
  throttle_percent real,
  rssi_percent real,
  raw_data text,
  parser_version text,
  data_source text,
  extra jsonb
);
comment on type telemetry.frame_values is
  'One staged frame''s values in telemetry column order (staging stores an array literal of it).';

/*
 * telemetry.telemetry_staging: one row per stored request: its device, receive time and frames
 * as the JSON array text telemetry-parse wrote (objects keyed by telemetry column name). Written
 * by public.ingest_frames in one statement per group of requests; the flush unpacks the rows
 * into telemetry and deletes them. No index but the primary key (the flush takes rows in id
 * order), no foreign key: a staged request of a device deleted meanwhile is dropped by the flush
 * and counted as orphans.
 */
create table telemetry.telemetry_staging (
  id bigint generated always as identity primary key,
  device_id uuid not null,
  created_at timestamptz not null default now(),
  frame_count integer not null,
  -- A telemetry.frame_values[] literal, as text: it is only parsed when flushed or read.
  frames text not null,
  constraint frame_count_is_1_to_10000 check (frame_count between 1 and 10000)
);
comment on table telemetry.telemetry_staging is
  'Stored requests not yet flushed: one row per request, frames as a frame_values[] literal. Read through public.telemetry_frames.';
-- Stored out of line without compression: pglz on every request would cost more CPU than the
-- few seconds these rows live are worth.
alter table telemetry.telemetry_staging alter column frames set storage external;
-- Every row is deleted seconds after its insert: vacuum after a fixed number of dead rows.
alter table telemetry.telemetry_staging set (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0,
  autovacuum_analyze_threshold = 1000
);

alter table telemetry.telemetry_staging enable row level security;
grant select on telemetry.telemetry_staging to authenticated;
grant select, insert, update, delete on telemetry.telemetry_staging to service_role;

create policy "Service role manages staged telemetry"
  on telemetry.telemetry_staging for all to service_role
  using (true) with check (true);

-- Owners read staged frames only through public.telemetry_frames; they can never write here.
create policy "Owners see the staged telemetry of their devices"
  on telemetry.telemetry_staging for select to authenticated
  using (device_id in (select d.id from telemetry.devices as d where d.owner_id = (select auth.uid())));

-- The idempotency record keeps what a replay answers: the frames accepted and the function's
-- summary, as the text it sent (parsed only when a retry asks for it).
alter table telemetry.ingest_requests
  drop column answer,
  add column accepted integer not null default 0,
  add column pending_records bigint not null default 0,
  add column batch_size integer not null default 0,
  add column summary text not null default '{}';

/*
 * telemetry.staged_count(p_cap): frames waiting in staging, counted over the oldest 1000 staged
 * requests (a lower bound beyond them, which is all "is a batch full" needs), capped at p_cap
 * when one is given. Called by every ingest group, the flush and the status endpoints.
 */
create or replace function telemetry.staged_count(p_cap bigint default null)
returns bigint
language sql
stable
set search_path = ''
as $$
  select least(coalesce(sum(s.frame_count), 0), coalesce(p_cap, 9223372036854775807))
  from (select t.frame_count from telemetry.telemetry_staging as t order by t.id limit 1000) as s
$$;

/*
 * public.ingest_frames(body text): stores a group of device requests in one statement; called by
 * telemetry-parse with the group as the raw request body (a single unnamed text parameter, which
 * PostgREST passes through without parsing). The body holds 4 parts per request, each part
 * ended by a line feed followed by the character U+001E (record separator):
 *   1. header: {"device_id", "key_hash", "idempotency_key", "frame_count"}
 *   2. frames: a telemetry.frame_values[] literal (recorded_at set)
 *   3. rejects: a JSON array of {line_number, raw_text, reason}
 *   4. summary: the function's answer for a retry, as JSON text
 * No part can hold that pair: JSON text has no raw control character, and of a frame's values
 * only raw_data may hold a line feed (a pretty-printed element of a JSON document), which is JSON
 * text then, without U+001E.
 *
 * Per request, in one transaction: the key must still be the device's current, unrevoked key
 * (a key revoked a moment ago is refused even while the function still has it cached); the
 * idempotency key is claimed, and a key used before stores nothing and gets the first answer
 * back; the frames become one staging row; the rejected lines go to telemetry_rejects.
 *
 * Returns {batch: {pending_records, batch_size, batch_full}, outcomes: [...]}, one outcome per
 * request in body order: {ok: true, replayed: false, accepted, pending_records, batch_size,
 * batch_full} | {ok: true, replayed: true, accepted, pending_records, batch_size, batch_full,
 * summary} (the first answer's) | {ok: false, code, message} (P0002: not the device's current key; 40001:
 * the same key is being stored by a concurrent call, retry). service_role only.
 */
create function public.ingest_frames(text)
returns json
language plpgsql
volatile
set search_path = ''
-- Its statements are planned once per connection, not five times first (each plan of the big
-- statement costs about as much as running it for a small group).
set plan_cache_mode = force_generic_plan
as $$
declare
  v_lines text[] := pg_catalog.string_to_array($1, e'\n\x1e');
  v_requests integer := coalesce(pg_catalog.array_length(v_lines, 1), 0) / 4;
  v_outcomes json;
  v_batch_size integer;
  v_pending bigint;
  v_stored bigint;
begin
  -- GUARD
  if coalesce(pg_catalog.array_length(v_lines, 1), 0) % 4 <> 0 then
    raise exception 'the body must hold 4 parts per request, got % parts',
      pg_catalog.array_length(v_lines, 1) using errcode = '22023';
  end if;

  -- What was staged before (as telemetry.staged_count counts it, inline: a call of that SQL
  -- function is planned anew in every transaction).
  select s.batch_size,
         (select coalesce(sum(t.frame_count), 0)
          from (select x.frame_count from telemetry.telemetry_staging as x order by x.id limit 1000) as t)
  into strict v_batch_size, v_pending
  from telemetry.settings as s
  where s.id;

  -- STORE: check, claim, stage and reject in one statement. Each request's batch status is
  -- what was staged before the call plus the frames of the group up to it; a retry gets it back.
  with requests as (
    select r.n, h.device_id, h.key_hash, h.idempotency_key, h.frame_count,
           v_lines[4 * r.n + 2] as frames, v_lines[4 * r.n + 3] as rejects,
           v_lines[4 * r.n + 4] as summary,
           exists (
             select from telemetry.devices as d
             where d.id = h.device_id and d.key_hash = h.key_hash and d.revoked_at is null
           ) as key_ok
    from generate_series(0, v_requests - 1) as r (n)
    cross join lateral json_to_record(v_lines[4 * r.n + 1]::json)
      as h (device_id uuid, key_hash text, idempotency_key text, frame_count integer)
  ),
  firsts as (
    select u.*, v_pending + sum(u.frame_count) over (order by u.n) as pending_records
    from (
      select distinct on (q.device_id, q.idempotency_key) q.*
      from requests as q
      where q.key_ok
      order by q.device_id, q.idempotency_key, q.n
    ) as u
  ),
  claimed as (
    insert into telemetry.ingest_requests (
      device_id, idempotency_key, accepted, pending_records, batch_size, summary
    )
    select f.device_id, f.idempotency_key, f.frame_count, f.pending_records, v_batch_size,
           f.summary
    from firsts as f
    on conflict do nothing
    returning device_id, idempotency_key
  ),
  stored as (
    select f.*
    from firsts as f
    join claimed as c on c.device_id = f.device_id and c.idempotency_key = f.idempotency_key
  ),
  staged as (
    insert into telemetry.telemetry_staging (device_id, frame_count, frames)
    select s.device_id, s.frame_count, s.frames
    from stored as s
    where s.frame_count > 0
    order by s.n
    returning 1
  ),
  rejected as (
    insert into telemetry.telemetry_rejects (device_id, line_number, raw_text, raw_length, reason)
    select s.device_id, r.line_number, left(r.raw_text, 4096), char_length(r.raw_text),
           left(coalesce(nullif(r.reason, ''), 'unspecified'), 1000)
    from stored as s
    cross join lateral json_to_recordset(s.rejects::json)
      as r (line_number integer, raw_text text, reason text)
    where s.rejects <> '[]'
    returning 1
  )
  select json_agg(
           case
             when not q.key_ok then json_build_object('ok', false, 'code', 'P0002',
               'message', format('device "%s" has no current key with that hash', q.device_id))
             when s.n is not null then json_build_object('ok', true, 'replayed', false,
               'accepted', s.frame_count, 'pending_records', s.pending_records,
               'batch_size', v_batch_size, 'batch_full', s.pending_records >= v_batch_size)
             -- A replay of a request stored before this call, or earlier in this group.
             when coalesce(p.summary, f.summary) is not null then json_build_object('ok', true,
               'replayed', true, 'accepted', coalesce(p.accepted, f.frame_count),
               'pending_records', coalesce(p.pending_records, f.pending_records),
               'batch_size', coalesce(p.batch_size, v_batch_size),
               'batch_full', coalesce(p.pending_records, f.pending_records)
                 >= coalesce(p.batch_size, v_batch_size),
               'summary', coalesce(p.summary, f.summary)::json)
             -- Claimed by a concurrent call that committed after this statement began.
             else json_build_object('ok', false, 'code', '40001',
               'message', 'the same idempotency key is being stored by another request')
           end
           order by q.n),
         (select coalesce(sum(s2.frame_count), 0) from stored as s2)
  into v_outcomes, v_stored
  from requests as q
  left join stored as s on s.n = q.n
  left join firsts as f
    on f.device_id = q.device_id and f.idempotency_key = q.idempotency_key and f.n < q.n
  left join telemetry.ingest_requests as p
    on p.device_id = q.device_id and p.idempotency_key = q.idempotency_key
  -- The staging and reject inserts run whether or not the answer reads them.
  where (select count(*) from staged) >= 0 and (select count(*) from rejected) >= 0;

  -- BATCH STATUS after the group.
  v_pending := v_pending + v_stored;
  return json_build_object(
    'batch', json_build_object('pending_records', v_pending, 'batch_size', v_batch_size,
      'batch_full', v_pending >= v_batch_size),
    'outcomes', coalesce(v_outcomes, '[]'::json));
end;
$$;
comment on function public.ingest_frames(text) is
  'Stores a group of device requests (raw text body, 4 parts each) in one statement. service_role only.';
grant execute on function public.ingest_frames(text) to service_role;

/*
 * public.ingest_telemetry(p_device_id, p_frames): stores one request's frames as one staging
 * row, for SQL callers (tests, scripts, backfills); devices go through telemetry-parse. p_frames
 * is a JSON array of objects keyed by telemetry column name; recorded_at defaults to the receive
 * time. Returns {accepted, pending_records, batch_size, batch_full}. service_role only.
 */
create function public.ingest_telemetry(p_device_id uuid, p_frames jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_accepted integer;
  v_batch_size integer;
  v_pending bigint;
begin
  -- GUARD
  if jsonb_typeof(p_frames) is distinct from 'array' then
    raise exception 'p_frames must be a JSON array, got %', coalesce(jsonb_typeof(p_frames), 'null')
      using errcode = '22023';
  end if;
  v_accepted := jsonb_array_length(p_frames);
  if v_accepted > 10000 then
    raise exception 'p_frames holds % frames, at most 10000 are allowed per request', v_accepted
      using errcode = '22023';
  end if;
  perform from telemetry.devices as d where d.id = p_device_id and d.revoked_at is null;
  if not found then
    raise exception 'device "%" not found or revoked', p_device_id using errcode = 'P0002';
  end if;

  -- STORE
  if v_accepted > 0 then
    insert into telemetry.telemetry_staging (device_id, frame_count, frames)
    select p_device_id, v_accepted,
           array_agg(jsonb_populate_record(null::telemetry.frame_values, e.value) order by e.n)::text
    from jsonb_array_elements(p_frames) with ordinality as e (value, n);
  end if;

  select s.batch_size into strict v_batch_size from telemetry.settings as s where s.id;
  v_pending := telemetry.staged_count(null);
  return jsonb_build_object('accepted', v_accepted, 'pending_records', v_pending,
    'batch_size', v_batch_size, 'batch_full', v_pending >= v_batch_size);
end;
$$;
comment on function public.ingest_telemetry(uuid, jsonb) is
  'Stores one request''s frames as one staging row (SQL callers). service_role only.';
grant execute on function public.ingest_telemetry(uuid, jsonb) to service_role;

/*
 * telemetry.flush_chunk(p_limit, p_last_id): moves the oldest staged requests (up to id
 * p_last_id when given) holding at most p_limit frames, or the oldest one alone when it holds
 * more, into telemetry in ONE statement, and returns how many frames it inserted, dropped as
 * duplicates and dropped as orphans (frames of a device deleted since ingest). Called by
 * telemetry.run_flush.
 *
 * - Atomic: the DELETE from staging, the INSERT into telemetry and the rollup upserts are one
 *   statement of one transaction; if the backend is killed, all roll back.
 * - Concurrency-safe: requests are locked FOR UPDATE SKIP LOCKED as they are read, so each goes
 *   to one flush only, and a concurrent flush takes the next ones without waiting.
 * - Dedup: ON CONFLICT (device_id, recorded_at) DO NOTHING drops a frame already stored or
 *   repeated; frames go in staging order, so of two copies the older staged one is kept.
 * - Rollups count the rows actually inserted, so a duplicate never counts twice. A segment (the
 *   step from a device's previous frame, same flight, at most 10 s before) adds its armed time
 *   and its great-circle distance to the bucket of its later frame; the previous frame of a
 *   chunk's first frame is the device's track, which only the flush holding the device's
 *   try-lock reads and moves (another flush counts that one segment as nothing rather than twice).
 */
drop function telemetry.flush_chunk(integer);
create function telemetry.flush_chunk(p_limit integer, p_last_id bigint default null)
returns table (rows_moved bigint, duplicates_dropped bigint, orphans_dropped bigint)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_oldest refcursor;
  v_request record;
  v_ids bigint[] := '{}';
  v_frames bigint := 0;
begin
  -- PICK the oldest requests no other flush holds, locking them one FETCH at a time: a LIMIT
  -- would lock every row it read, and a query loop reads ahead, so a concurrent flush would find
  -- rows locked that this one leaves staged. (The request that does not fit stays locked until
  -- the transaction ends: one row, not a chunk.)
  open v_oldest for
    select t.id, t.frame_count
    from telemetry.telemetry_staging as t
    where p_last_id is null or t.id <= p_last_id
    order by t.id
    for update skip locked;
  loop
    fetch v_oldest into v_request;
    exit when not found or (v_frames > 0 and v_frames + v_request.frame_count > p_limit);
    v_ids := v_ids || v_request.id;
    v_frames := v_frames + v_request.frame_count;
  end loop;
  close v_oldest;

  -- MOVE and ROLL UP in one statement.
  return query
  with moved as (
    delete from telemetry.telemetry_staging as s
    where s.id = any (v_ids)
    returning s.id, s.device_id, s.created_at, s.frame_count, s.frames
  ),
  orphans as (
    select coalesce(sum(m.frame_count), 0)::bigint as frames
    from moved as m
    where not exists (select from telemetry.devices as d where d.id = m.device_id)
  ),
  inserted as (
    insert into telemetry.telemetry (
      device_id, created_at, recorded_at, flight_id, flight_mode, armed,
      flight_time_seconds, cpu_load_percent, roll_degrees, pitch_degrees, yaw_degrees,
      heading_degrees, roll_rate_dps, pitch_rate_dps, yaw_rate_dps, accel_x_ms2,
      accel_y_ms2, accel_z_ms2, gps_fix_type, gps_satellites, gps_latitude, gps_longitude,
      gps_altitude_m, gps_speed_ms, gps_course_degrees, gps_hdop, gps_vdop, baro_altitude_m,
      baro_pressure_pa, baro_temperature_c, altitude_m, battery_voltage_v,
      battery_current_a, battery_consumed_mah, battery_remaining_percent, motor1_pwm,
      motor2_pwm, motor3_pwm, motor4_pwm, motor5_pwm, motor6_pwm, motor7_pwm, motor8_pwm,
      pid_roll_p, pid_roll_i, pid_roll_d, pid_pitch_p, pid_pitch_i, pid_pitch_d, pid_yaw_p,
      pid_yaw_i, pid_yaw_d, rc_roll, rc_pitch, rc_throttle, rc_yaw, rc_aux1, rc_aux2,
      rc_aux3, rc_aux4, velocity_x_ms, velocity_y_ms, velocity_z_ms, position_x_m,
      position_y_m, position_z_m, magnetometer_x, magnetometer_y, magnetometer_z,
      temperature_c, humidity_percent, failsafe_active, vibration_x, vibration_y,
      vibration_z, airspeed_ms, groundspeed_ms, climb_rate_ms, throttle_percent,
      rssi_percent, raw_data, parser_version, data_source, extra
    )
    select k.device_id, k.created_at, coalesce(f.recorded_at, k.created_at), f.flight_id,
           f.flight_mode, f.armed, f.flight_time_seconds, f.cpu_load_percent,
           f.roll_degrees, f.pitch_degrees, f.yaw_degrees, f.heading_degrees,
           f.roll_rate_dps, f.pitch_rate_dps, f.yaw_rate_dps, f.accel_x_ms2, f.accel_y_ms2,
           f.accel_z_ms2, f.gps_fix_type, f.gps_satellites, f.gps_latitude, f.gps_longitude,
           f.gps_altitude_m, f.gps_speed_ms, f.gps_course_degrees, f.gps_hdop, f.gps_vdop,
           f.baro_altitude_m, f.baro_pressure_pa, f.baro_temperature_c, f.altitude_m,
           f.battery_voltage_v, f.battery_current_a, f.battery_consumed_mah,
           f.battery_remaining_percent, f.motor1_pwm, f.motor2_pwm, f.motor3_pwm,
           f.motor4_pwm, f.motor5_pwm, f.motor6_pwm, f.motor7_pwm, f.motor8_pwm,
           f.pid_roll_p, f.pid_roll_i, f.pid_roll_d, f.pid_pitch_p, f.pid_pitch_i,
           f.pid_pitch_d, f.pid_yaw_p, f.pid_yaw_i, f.pid_yaw_d, f.rc_roll, f.rc_pitch,
           f.rc_throttle, f.rc_yaw, f.rc_aux1, f.rc_aux2, f.rc_aux3, f.rc_aux4,
           f.velocity_x_ms, f.velocity_y_ms, f.velocity_z_ms, f.position_x_m,
           f.position_y_m, f.position_z_m, f.magnetometer_x, f.magnetometer_y,
           f.magnetometer_z, f.temperature_c, f.humidity_percent, f.failsafe_active,
           f.vibration_x, f.vibration_y, f.vibration_z, f.airspeed_ms, f.groundspeed_ms,
           f.climb_rate_ms, f.throttle_percent, f.rssi_percent, f.raw_data,
           f.parser_version, f.data_source, f.extra
    from (
      select m.* from moved as m
      where exists (select from telemetry.devices as d where d.id = m.device_id)
      order by m.id
    ) as k
    cross join lateral unnest(k.frames::telemetry.frame_values[]) as f
    on conflict (device_id, recorded_at) do nothing
    returning device_id,
              flight_id,
              recorded_at,
              coalesce(altitude_m, baro_altitude_m, gps_altitude_m) as altitude_m,
              battery_voltage_v,
              coalesce(groundspeed_ms, gps_speed_ms) as groundspeed_ms,
              armed,
              gps_latitude,
              gps_longitude
  ),
  claimed as (
    select d.device_id
    from (select distinct i.device_id from inserted as i order by 1) as d
    where pg_catalog.pg_try_advisory_xact_lock(20261201, pg_catalog.hashtext(d.device_id::text))
  ),
  steps as (
    select x.*,
           lag(x.recorded_at) over w as previous_at,
           lag(x.flight_id) over w as previous_flight_id,
           lag(x.armed) over w as previous_armed,
           lag(x.gps_latitude) over w as previous_latitude,
           lag(x.gps_longitude) over w as previous_longitude
    from (
      select i.*, true as is_new from inserted as i
      union all
      select t.device_id, t.last_flight_id, t.last_frame_at, null, null, null, t.last_armed,
             t.last_gps_latitude, t.last_gps_longitude, false
      from telemetry.device_tracks as t
      where t.device_id in (select c.device_id from claimed as c)
    ) as x
    window w as (partition by x.device_id order by x.recorded_at)
  ),
  measured as (
    select s.device_id, s.flight_id, s.recorded_at, s.altitude_m, s.battery_voltage_v,
           s.groundspeed_ms, s.armed, s.gps_latitude, s.gps_longitude,
           case when s.previous_armed and linked
             then extract(epoch from s.recorded_at - s.previous_at)::double precision
             else 0 end as armed_seconds,
           case when linked and s.gps_latitude is not null and s.previous_latitude is not null
             then telemetry.gps_distance_m(s.previous_latitude, s.previous_longitude,
                                           s.gps_latitude, s.gps_longitude)
             else 0 end as distance_m
    from steps as s
    cross join lateral (
      select s.previous_flight_id is not distinct from s.flight_id
             and s.recorded_at - s.previous_at <= interval '10 seconds' as linked
    ) as l
    where s.is_new
  ),
  hourly as (
    insert into telemetry.hourly_rollups as r (
      device_id, bucket_start, frames, altitude_samples, altitude_sum_m, altitude_min_m,
      altitude_max_m, battery_voltage_min_v, groundspeed_max_ms, armed_frames, first_armed_at,
      last_armed_at, first_frame_at, last_frame_at, battery_voltage_samples,
      battery_voltage_sum_v, distance_m, armed_seconds
    )
    select m.device_id, date_trunc('hour', m.recorded_at, 'UTC'), count(*), count(m.altitude_m),
           coalesce(sum(m.altitude_m), 0), min(m.altitude_m), max(m.altitude_m),
           min(m.battery_voltage_v), max(m.groundspeed_ms), count(*) filter (where m.armed),
           min(m.recorded_at) filter (where m.armed), max(m.recorded_at) filter (where m.armed),
           min(m.recorded_at), max(m.recorded_at), count(m.battery_voltage_v),
           coalesce(sum(m.battery_voltage_v), 0), sum(m.distance_m), sum(m.armed_seconds)
    from measured as m
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
        battery_voltage_samples = r.battery_voltage_samples + excluded.battery_voltage_samples,
        battery_voltage_sum_v = r.battery_voltage_sum_v + excluded.battery_voltage_sum_v,
        distance_m = r.distance_m + excluded.distance_m,
        armed_seconds = r.armed_seconds + excluded.armed_seconds,
        updated_at = now()
    returning 1
  ),
  daily as (
    insert into telemetry.daily_rollups as r (
      device_id, bucket_start, frames, altitude_samples, altitude_sum_m, altitude_min_m,
      altitude_max_m, battery_voltage_min_v, groundspeed_max_ms, armed_frames, first_armed_at,
      last_armed_at, first_frame_at, last_frame_at, battery_voltage_samples,
      battery_voltage_sum_v, distance_m, armed_seconds
    )
    select m.device_id, date_trunc('day', m.recorded_at, 'UTC'), count(*), count(m.altitude_m),
           coalesce(sum(m.altitude_m), 0), min(m.altitude_m), max(m.altitude_m),
           min(m.battery_voltage_v), max(m.groundspeed_ms), count(*) filter (where m.armed),
           min(m.recorded_at) filter (where m.armed), max(m.recorded_at) filter (where m.armed),
           min(m.recorded_at), max(m.recorded_at), count(m.battery_voltage_v),
           coalesce(sum(m.battery_voltage_v), 0), sum(m.distance_m), sum(m.armed_seconds)
    from measured as m
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
        battery_voltage_samples = r.battery_voltage_samples + excluded.battery_voltage_samples,
        battery_voltage_sum_v = r.battery_voltage_sum_v + excluded.battery_voltage_sum_v,
        distance_m = r.distance_m + excluded.distance_m,
        armed_seconds = r.armed_seconds + excluded.armed_seconds,
        updated_at = now()
    returning 1
  ),
  flights as (
    insert into telemetry.flights as f (
      device_id, flight_id, started_at, ended_at, frames, distance_m, armed_seconds
    )
    select m.device_id, m.flight_id, min(m.recorded_at), max(m.recorded_at), count(*),
           sum(m.distance_m), sum(m.armed_seconds)
    from measured as m
    where m.flight_id is not null
    group by 1, 2
    order by 1, 2
    on conflict (device_id, flight_id) do update
    set started_at = least(f.started_at, excluded.started_at),
        ended_at = greatest(f.ended_at, excluded.ended_at),
        frames = f.frames + excluded.frames,
        distance_m = f.distance_m + excluded.distance_m,
        armed_seconds = f.armed_seconds + excluded.armed_seconds,
        updated_at = now()
    returning 1
  ),
  tracks as (
    -- A late chunk of older frames leaves a newer track as it is.
    insert into telemetry.device_tracks as t (
      device_id, last_frame_at, last_flight_id, last_armed, last_gps_latitude, last_gps_longitude
    )
    select distinct on (m.device_id) m.device_id, m.recorded_at, m.flight_id, m.armed,
           m.gps_latitude, m.gps_longitude
    from measured as m
    where m.device_id in (select c.device_id from claimed as c)
    order by m.device_id, m.recorded_at desc
    on conflict (device_id) do update
    set last_frame_at = excluded.last_frame_at,
        last_flight_id = excluded.last_flight_id,
        last_armed = excluded.last_armed,
        last_gps_latitude = excluded.last_gps_latitude,
        last_gps_longitude = excluded.last_gps_longitude
    where excluded.last_frame_at > t.last_frame_at
    returning 1
  )
  select (select count(*) from inserted),
         (select coalesce(sum(m.frame_count), 0) from moved as m)::bigint
           - (select count(*) from inserted) - (select o.frames from orphans as o),
         (select o.frames from orphans as o);
end;
$$;
grant execute on function telemetry.flush_chunk(integer, bigint) to service_role;

/*
 * telemetry.run_flush(p_max_rows, p_triggered_by): one flush run. Moves the requests staged when it
 * starts (whole requests holding at most p_max_rows frames, or the oldest alone when it holds
 * more), chunk by chunk, logs the run in flush_runs (a
 * scheduled run that found nothing to move is not logged: pg_cron runs one every few seconds)
 * and returns {run_id, skipped, rows_moved, duplicates_dropped, orphans_dropped, set_aside,
 * chunks, started_at, finished_at, duration_ms, pending_records}.
 *
 * Only one flush runs at a time: the others get pg_try_advisory_xact_lock = false and return at
 * once with skipped = true (the running flush moves their rows).
 *
 * A staged request whose frames the table refuses (telemetry-parse validates every column's
 * rule, so this is a safety net, not a path) must not stop the pipeline: when a chunk fails, its
 * oldest request is flushed alone, and if that fails too it is set aside in telemetry_rejects
 * with the database's reason and its frames' text, and the flush goes on.
 */
create or replace function telemetry.run_flush(p_max_rows integer, p_triggered_by text)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  -- Frames per flush statement: enough to amortise the statement and the rollup upserts over
  -- many frames, few enough that one chunk's locks and memory stay small.
  c_chunk_frames constant integer := 5000;
  v_started timestamptz := clock_timestamp();
  v_finished timestamptz;
  v_last_id bigint;
  v_budget integer;
  v_next_frames integer;
  v_refused bigint;
  v_chunk record;
  v_moved bigint := 0;
  v_duplicates bigint := 0;
  v_orphans bigint := 0;
  v_set_aside bigint := 0;
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
      'rows_moved', 0, 'duplicates_dropped', 0, 'orphans_dropped', 0, 'set_aside', 0,
      'chunks', 0, 'started_at', v_started, 'finished_at', clock_timestamp(),
      'duration_ms', 0, 'pending_records', telemetry.staged_count(null));
  end if;

  -- What is staged now: a flush under a constant stream of ingests still ends.
  select max(s.id) into v_last_id from telemetry.telemetry_staging as s;

  -- MOVE
  loop
    v_budget := c_chunk_frames;
    if p_max_rows is not null then
      v_budget := least(v_budget, p_max_rows - v_moved - v_duplicates - v_orphans - v_set_aside);
      -- Whole requests: the next one goes only if it fits, unless nothing has moved yet.
      select s.frame_count into v_next_frames
      from telemetry.telemetry_staging as s
      where s.id <= v_last_id
      order by s.id
      limit 1;
      exit when v_budget <= 0 or (v_next_frames > v_budget and v_chunks + v_set_aside > 0);
    end if;
    begin
      select * into v_chunk from telemetry.flush_chunk(v_budget, v_last_id);
    exception when others then
      begin
        select * into v_chunk from telemetry.flush_chunk(1, v_last_id);
      exception when others then
        with refused as (
          delete from telemetry.telemetry_staging as s
          where s.id = (select min(t.id) from telemetry.telemetry_staging as t)
          returning s.device_id, s.frame_count, s.frames
        ),
        kept as (
          insert into telemetry.telemetry_rejects (device_id, raw_text, raw_length, reason)
          select r.device_id, left(r.frames, 4096), char_length(r.frames),
                 left(format('the flush refused these %s frames: %s', r.frame_count, sqlerrm), 1000)
          from refused as r
          where exists (select from telemetry.devices as d where d.id = r.device_id)
        )
        select coalesce((select sum(r.frame_count) from refused as r), 0) into v_refused;
        raise warning 'flush set a staged request aside in telemetry_rejects: %', left(sqlerrm, 300);
        v_set_aside := v_set_aside + v_refused;
        continue;
      end;
    end;
    exit when v_chunk.rows_moved + v_chunk.duplicates_dropped + v_chunk.orphans_dropped = 0;
    v_moved := v_moved + v_chunk.rows_moved;
    v_duplicates := v_duplicates + v_chunk.duplicates_dropped;
    v_orphans := v_orphans + v_chunk.orphans_dropped;
    v_chunks := v_chunks + 1;
  end loop;

  -- LOG
  v_finished := clock_timestamp();
  if v_chunks > 0 or v_set_aside > 0 or p_triggered_by <> 'schedule' then
    insert into telemetry.flush_runs (
      started_at, finished_at, rows_moved, duplicates_dropped, orphans_dropped, chunks,
      duration_ms, triggered_by
    )
    values (
      v_started, v_finished, v_moved, v_duplicates, v_orphans, v_chunks,
      extract(epoch from v_finished - v_started) * 1000, p_triggered_by
    )
    returning id into v_run_id;
  end if;

  return jsonb_build_object(
    'run_id', v_run_id, 'skipped', false,
    'rows_moved', v_moved, 'duplicates_dropped', v_duplicates, 'orphans_dropped', v_orphans,
    'set_aside', v_set_aside, 'chunks', v_chunks, 'started_at', v_started,
    'finished_at', v_finished,
    'duration_ms', round((extract(epoch from v_finished - v_started) * 1000)::numeric, 3),
    'pending_records', telemetry.staged_count(null));
end;
$$;

/*
 * public.flush_after_ingest(): the flush telemetry-parse starts after answering a request that
 * filled a batch (logged as triggered by 'ingest'). Returns as telemetry.run_flush; skipped when
 * a flush was already running. service_role only.
 */
create function public.flush_after_ingest()
returns jsonb
language sql
volatile
set search_path = ''
as $$
  select telemetry.run_flush(null, 'ingest')
$$;
comment on function public.flush_after_ingest() is
  'Flushes after an ingest filled a batch (telemetry-parse, after its answer). service_role only.';
grant execute on function public.flush_after_ingest() to service_role;

/*
 * telemetry.flush_for(p_seconds): keeps flushing for about p_seconds, committing after each run
 * and pausing a second when there was nothing to move. pg_cron 1.4 (Debian's) schedules at most
 * once a minute, so its job calls this to flush every few seconds for most of each minute.
 *
 * A procedure without `set search_path`: a procedure with a SET clause cannot COMMIT. Every
 * name in it is schema-qualified instead.
 */
create procedure telemetry.flush_for(p_seconds integer)
language plpgsql
as $$
declare
  v_until timestamptz := pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => p_seconds);
  v_run jsonb;
begin
  loop
    v_run := telemetry.run_flush(null, 'schedule');
    commit;
    exit when pg_catalog.clock_timestamp() >= v_until;
    if (v_run ->> 'chunks')::integer = 0 then
      perform pg_catalog.pg_sleep(1);
    end if;
  end loop;
end;
$$;
comment on procedure telemetry.flush_for(integer) is
  'Flushes repeatedly for p_seconds, committing each run (pg_cron 1.4''s minutely job). Internal.';

/*
 * telemetry.flush_schedule(): the flush job the installed pg_cron supports: from pg_cron 1.5 an
 * interval schedule of a few seconds, each run one flush; on 1.4 (cron syntax only, a minute at
 * the finest) a minutely job that flushes for 50 seconds of its minute.
 */
create or replace function telemetry.flush_schedule()
returns text
language sql
stable
set search_path = ''
as $$
  select case
    when string_to_array(split_part(e.extversion, '-', 1), '.')::integer[] >= array[1, 5] then '3 seconds'
    else '* * * * *'
  end
  from pg_catalog.pg_extension as e
  where e.extname = 'pg_cron'
$$;

do $$
begin
  if current_database() <> coalesce(current_setting('cron.database_name', true), 'postgres')
    or to_regclass('cron.job') is null then
    return;
  end if;
  perform cron.schedule('telemetry-flush', telemetry.flush_schedule(),
    case when telemetry.flush_schedule() = '* * * * *'
      then $job$call telemetry.flush_for(50)$job$
      else $job$select telemetry.run_flush(null, 'schedule')$job$
    end);
end;
$$;

/*
 * public.telemetry_frames: every frame the caller may see, flushed or still staged, each
 * (device_id, recorded_at) once: a staged frame is hidden when telemetry already has its key (the
 * flush will drop it as a duplicate) or an older staged request has it. Staged requests are
 * unpacked here; the staging RLS (the caller's devices) and a device filter apply before, so a
 * query unpacks only its devices' few seconds of backlog. A staged frame's id is null until the
 * flush gives it one. security_invoker, so the RLS of both tables applies: owners see their
 * devices' frames, anon nothing.
 */
create view public.telemetry_frames
with (security_invoker = true)
as
select t.*
from telemetry.telemetry as t
union all
select
       u.id, u.device_id, u.flight_id, u.recorded_at, u.created_at, u.flight_mode, u.armed,
       u.flight_time_seconds, u.cpu_load_percent, u.roll_degrees, u.pitch_degrees,
       u.yaw_degrees, u.heading_degrees, u.roll_rate_dps, u.pitch_rate_dps, u.yaw_rate_dps,
       u.accel_x_ms2, u.accel_y_ms2, u.accel_z_ms2, u.gps_fix_type, u.gps_satellites,
       u.gps_latitude, u.gps_longitude, u.gps_altitude_m, u.gps_speed_ms,
       u.gps_course_degrees, u.gps_hdop, u.gps_vdop, u.baro_altitude_m, u.baro_pressure_pa,
       u.baro_temperature_c, u.altitude_m, u.battery_voltage_v, u.battery_current_a,
       u.battery_consumed_mah, u.battery_remaining_percent, u.motor1_pwm, u.motor2_pwm,
       u.motor3_pwm, u.motor4_pwm, u.motor5_pwm, u.motor6_pwm, u.motor7_pwm, u.motor8_pwm,
       u.pid_roll_p, u.pid_roll_i, u.pid_roll_d, u.pid_pitch_p, u.pid_pitch_i, u.pid_pitch_d,
       u.pid_yaw_p, u.pid_yaw_i, u.pid_yaw_d, u.rc_roll, u.rc_pitch, u.rc_throttle, u.rc_yaw,
       u.rc_aux1, u.rc_aux2, u.rc_aux3, u.rc_aux4, u.velocity_x_ms, u.velocity_y_ms,
       u.velocity_z_ms, u.position_x_m, u.position_y_m, u.position_z_m, u.magnetometer_x,
       u.magnetometer_y, u.magnetometer_z, u.temperature_c, u.humidity_percent,
       u.failsafe_active, u.vibration_x, u.vibration_y, u.vibration_z, u.airspeed_ms,
       u.groundspeed_ms, u.climb_rate_ms, u.throttle_percent, u.rssi_percent, u.raw_data,
       u.parser_version, u.data_source, u.extra
from (
  select
         null::bigint as id, s.device_id, j.flight_id, coalesce(j.recorded_at,
         s.created_at) as recorded_at, s.created_at, j.flight_mode, j.armed,
         j.flight_time_seconds, j.cpu_load_percent, j.roll_degrees, j.pitch_degrees,
         j.yaw_degrees, j.heading_degrees, j.roll_rate_dps, j.pitch_rate_dps,
         j.yaw_rate_dps, j.accel_x_ms2, j.accel_y_ms2, j.accel_z_ms2, j.gps_fix_type,
         j.gps_satellites, j.gps_latitude, j.gps_longitude, j.gps_altitude_m,
         j.gps_speed_ms, j.gps_course_degrees, j.gps_hdop, j.gps_vdop, j.baro_altitude_m,
         j.baro_pressure_pa, j.baro_temperature_c, j.altitude_m, j.battery_voltage_v,
         j.battery_current_a, j.battery_consumed_mah, j.battery_remaining_percent,
         j.motor1_pwm, j.motor2_pwm, j.motor3_pwm, j.motor4_pwm, j.motor5_pwm,
         j.motor6_pwm, j.motor7_pwm, j.motor8_pwm, j.pid_roll_p, j.pid_roll_i,
         j.pid_roll_d, j.pid_pitch_p, j.pid_pitch_i, j.pid_pitch_d, j.pid_yaw_p,
         j.pid_yaw_i, j.pid_yaw_d, j.rc_roll, j.rc_pitch, j.rc_throttle, j.rc_yaw,
         j.rc_aux1, j.rc_aux2, j.rc_aux3, j.rc_aux4, j.velocity_x_ms, j.velocity_y_ms,
         j.velocity_z_ms, j.position_x_m, j.position_y_m, j.position_z_m, j.magnetometer_x,
         j.magnetometer_y, j.magnetometer_z, j.temperature_c, j.humidity_percent,
         j.failsafe_active, j.vibration_x, j.vibration_y, j.vibration_z, j.airspeed_ms,
         j.groundspeed_ms, j.climb_rate_ms, j.throttle_percent, j.rssi_percent, j.raw_data,
         j.parser_version, j.data_source, j.extra,
         row_number() over (
           partition by s.device_id, coalesce(j.recorded_at, s.created_at)
           order by s.id, j.ordinality
         ) as copy
  from telemetry.telemetry_staging as s
  cross join lateral unnest(s.frames::telemetry.frame_values[]) with ordinality as j
) as u
where u.copy = 1
  and not exists (
    select from telemetry.telemetry as t
    where t.device_id = u.device_id and t.recorded_at = u.recorded_at);
comment on view public.telemetry_frames is
  'Frames of the caller''s devices, flushed or staged, deduplicated on (device_id, recorded_at).';
revoke all on public.telemetry_frames from public, anon, authenticated, service_role;
grant select on public.telemetry_frames to authenticated, service_role;

-- get_performance_metrics counted staged frames by their columns; it now unpacks the staged
-- requests (a few seconds of backlog) for their flight and time.
create or replace function public.get_performance_metrics()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_frames bigint;
  v_devices bigint;
  v_flights bigint;
  v_oldest timestamptz;
begin
  with recent as (
    select t.device_id, t.flight_id, t.recorded_at
    from telemetry.telemetry as t
    where t.recorded_at >= v_now - interval '5 minutes' and t.recorded_at <= v_now + interval '1 minute'
    union all
    select s.device_id, f.flight_id, f.recorded_at
    from telemetry.telemetry_staging as s
    cross join lateral unnest(s.frames::telemetry.frame_values[]) as f
    where f.recorded_at >= v_now - interval '5 minutes' and f.recorded_at <= v_now + interval '1 minute'
  )
  select count(*) filter (where r.recorded_at >= v_now - interval '1 minute'),
         count(distinct r.device_id),
         count(distinct (r.device_id, r.flight_id)) filter (where r.flight_id is not null)
  into v_frames, v_devices, v_flights
  from recent as r;

  select s.created_at into v_oldest from telemetry.telemetry_staging as s order by s.id limit 1;

  return jsonb_build_object(
    'frames_last_minute', v_frames,
    'active_devices_last_5_minutes', v_devices,
    'active_flights_last_5_minutes', v_flights,
    'database_size_bytes', pg_catalog.pg_database_size(pg_catalog.current_database()),
    'database_size', pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(pg_catalog.current_database())),
    'staging_backlog', telemetry.staged_count(null),
    'oldest_pending_age_seconds', round(extract(epoch from v_now - v_oldest)::numeric, 3),
    'last_flush', (
      select jsonb_build_object(
               'started_at', r.started_at, 'finished_at', r.finished_at, 'rows_moved', r.rows_moved,
               'duplicates_dropped', r.duplicates_dropped, 'duration_ms', r.duration_ms,
               'triggered_by', r.triggered_by)
      from telemetry.flush_runs as r
      order by r.id desc
      limit 1),
    'measured_at', v_now
  );
end;
$$;
comment on function public.get_performance_metrics() is
  'Frames per minute, active devices and flights, database size, staging backlog, last flush. service_role only.';
