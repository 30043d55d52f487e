-- Ingest cost, round 3 (issue 19): counting what is staged starts at the flush's watermark.
--
-- Profiled on single-frame bodies (perf over Postgres and PostgREST during `deno task bench`,
-- 10,000 requests of one frame, 64 in flight): ingest_frames was a third of the database side's
-- samples, and half of that was one index scan: "what was staged before" (the batch status every
-- answer carries) reads staging's primary key from its lowest id. Staging is a queue: the flush
-- deletes from the low end, and under constant ingest the deleted rows stay (a running flush's
-- snapshot keeps them recently dead, so scans cannot mark them killed) until autovacuum comes, so
-- every call walked through thousands of dead entries and fetched their heap tuples
-- (index_fetch_heap, heap_hot_search_buffer, heap_page_prune_opt): about 10 ms and 387 buffers
-- for an empty staging table, measured after a run, against 3 buffers after a vacuum.
--
-- Now the flush records the highest staging id it has moved (requests move in id order, so every
-- request up to it is gone), and the counts start above it: ingest_frames, telemetry.staged_count
-- and get_batch_status's oldest staged request. A request that took a lower id but committed after
-- the flush passed it is not counted until the next flush moves it (the counts were already
-- approximate: at most the first 1000 staged requests). The flush itself still picks from the
-- lowest id: the watermark never decides what is moved, only what is counted.

/*
 * telemetry.staging_watermark: one row, the highest telemetry_staging id a flush has moved (0 when
 * none). Written by telemetry.move_requests, read by the staged counts.
 */
create table telemetry.staging_watermark (
  id boolean primary key default true,
  moved_through bigint not null default 0,
  constraint id_is_true check (id)
);
comment on table telemetry.staging_watermark is
  'The highest staging id the flush has moved: counts of staged frames start above it.';
alter table telemetry.staging_watermark enable row level security;
grant select, update on telemetry.staging_watermark to service_role;
create policy "Service role manages the staging watermark"
  on telemetry.staging_watermark for all to service_role
  using (true)
  with check (true);
insert into telemetry.staging_watermark (moved_through)
select coalesce(min(s.id) - 1, 0) from telemetry.telemetry_staging as s;

/*
 * telemetry.staged_count(p_cap): frames staged (in at most the first 1000 requests above the
 * watermark), capped at p_cap.
 */
create or replace function telemetry.staged_count(p_cap bigint default null)
returns bigint
language sql
stable
set search_path = ''
set jit = off
as $$
  select least(coalesce(sum(s.frame_count), 0), coalesce(p_cap, 9223372036854775807))
  from (select t.frame_count from telemetry.telemetry_staging as t
        where t.id > (select w.moved_through from telemetry.staging_watermark as w)
        order by t.id limit 1000) as s
$$;

/*
 * telemetry.move_requests(p_ids): moves these staged requests into telemetry and keeps the
 * rollups, flights and tracks (see 20261204070000_carry_state_in_rollups.sql); now also advances
 * telemetry.staging_watermark. Called by telemetry.run_flush and telemetry.flush_chunk.
 */
create or replace function telemetry.move_requests(p_ids bigint[])
returns table (rows_moved bigint, duplicates_dropped bigint, orphans_dropped bigint)
language plpgsql
volatile
set search_path = ''
set jit = off
as $$
begin
  -- MOVE and ROLL UP in one statement.
  return query
  with moved as (
    delete from telemetry.telemetry_staging as s
    where s.id = any (p_ids)
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
  -- Everything staged up to the highest id moved is gone (requests move in id order), so the
  -- counts of what is staged start above it (telemetry.staging_watermark). Never waited for:
  -- flushes may run side by side (flush_chunk), and one holding the row must not hold up the
  -- others; a watermark left behind only makes the counts scan a little more.
  watermark as (
    update telemetry.staging_watermark as w
    set moved_through = greatest(w.moved_through, (select max(m.id) from moved as m))
    where w.id = (select l.id from telemetry.staging_watermark as l
                  where (select max(m.id) from moved as m) > l.moved_through
                  for update skip locked)
    returning 1
  ),
  claimed as (
    select d.device_id
    from (select distinct i.device_id from inserted as i order by 1) as d
    where pg_catalog.pg_try_advisory_xact_lock(20261201, pg_catalog.hashtext(d.device_id::text))
  ),
  -- A device may send only what changed, so a frame's state is what it or an earlier frame of
  -- the same device and flight said last. `armed` carries forward: running maxima over the
  -- window give the newest time it was sent true and false before each frame. A GPS fix links
  -- to the previous fix whatever frames lie between: a second window over the frames with a fix
  -- (partitioned by having one) gives it. The device's track is its partition's first row when
  -- the chunk continues its flight.
  steps as (
    select x.*,
           lag(x.recorded_at) over w as previous_at,
           lead(x.recorded_at) over w is null as newest_of_flight,
           max(x.armed_true_at) over before_this as previous_true_at,
           max(x.armed_false_at) over before_this as previous_false_at,
           lag(x.fix_at) over fixes as previous_fix_at,
           lag(x.gps_latitude) over fixes as previous_latitude,
           lag(x.gps_longitude) over fixes as previous_longitude,
           x.has_fix and lead(x.fix_at) over fixes is null as newest_fix_of_flight
    from (
      select i.device_id, i.flight_id, i.recorded_at, i.altitude_m, i.battery_voltage_v,
             i.groundspeed_ms, i.armed, i.gps_latitude, i.gps_longitude, true as is_new,
             case when i.armed then i.recorded_at end as armed_true_at,
             case when not i.armed then i.recorded_at end as armed_false_at,
             i.gps_latitude is not null and i.gps_longitude is not null as has_fix,
             i.recorded_at as fix_at
      from inserted as i
      union all
      select t.device_id, t.last_flight_id, t.last_frame_at, null, null, null, t.last_armed,
             t.last_gps_latitude, t.last_gps_longitude, false,
             case when t.last_armed then t.last_frame_at end,
             case when not t.last_armed then t.last_frame_at end,
             t.last_gps_latitude is not null and t.last_gps_longitude is not null,
             coalesce(t.last_gps_at, t.last_frame_at)
      from telemetry.device_tracks as t
      where t.device_id in (select c.device_id from claimed as c)
    ) as x
    -- (Partitions only group equal flight ids: "C" compares bytes, cheaper than the locale.)
    window w as (partition by x.device_id, x.flight_id collate "C" order by x.recorded_at),
           before_this as (w rows between unbounded preceding and 1 preceding),
           fixes as (partition by x.device_id, x.flight_id collate "C", x.has_fix order by x.fix_at)
  ),
  -- A segment between consecutive frames at most 10 s apart counts as armed when the state
  -- carried to its earlier frame is armed; a step between consecutive fixes at most 10 s apart
  -- adds its great-circle distance. Both count in the bucket of the later frame.
  measured as (
    select s.device_id, s.flight_id, s.recorded_at, s.altitude_m, s.battery_voltage_v,
           s.groundspeed_ms, coalesce(s.armed, a.previous_armed) as armed, s.gps_latitude,
           s.gps_longitude, s.newest_of_flight, s.newest_fix_of_flight,
           case when a.previous_armed and s.recorded_at - s.previous_at <= interval '10 seconds'
             then extract(epoch from s.recorded_at - s.previous_at)::double precision
             else 0 end as armed_seconds,
           case when s.has_fix and s.recorded_at - s.previous_fix_at <= interval '10 seconds'
             then telemetry.gps_distance_m(s.previous_latitude, s.previous_longitude,
                                           s.gps_latitude, s.gps_longitude)
             else 0 end as distance_m
    from steps as s
    cross join lateral (
      -- null while the flight has not said yet
      select case when s.previous_true_at is not null or s.previous_false_at is not null
               then coalesce(s.previous_true_at > s.previous_false_at,
                             s.previous_true_at is not null)
             end as previous_armed
    ) as a
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
    -- The newest frame's state, and the newest fix of its flight (the track's fix stays when
    -- the chunk brought none for the same flight). A late chunk of older frames leaves a newer
    -- track as it is.
    insert into telemetry.device_tracks as t (
      device_id, last_frame_at, last_flight_id, last_armed, last_gps_latitude,
      last_gps_longitude, last_gps_at
    )
    select l.device_id, l.recorded_at, l.flight_id, l.armed, f.gps_latitude, f.gps_longitude,
           f.recorded_at
    from (
      -- The newest frame of each device, among the newest of each of its flights.
      select distinct on (m.device_id) m.device_id, m.recorded_at, m.flight_id, m.armed
      from measured as m
      where m.newest_of_flight and m.device_id in (select c.device_id from claimed as c)
      order by m.device_id, m.recorded_at desc
    ) as l
    left join measured as f
      on f.newest_fix_of_flight and f.device_id = l.device_id
         and f.flight_id is not distinct from l.flight_id
    order by l.device_id
    on conflict (device_id) do update
    set last_frame_at = excluded.last_frame_at,
        last_flight_id = excluded.last_flight_id,
        last_armed = excluded.last_armed,
        last_gps_latitude = case when excluded.last_gps_at is not null
          then excluded.last_gps_latitude
          when excluded.last_flight_id is not distinct from t.last_flight_id
          then t.last_gps_latitude end,
        last_gps_longitude = case when excluded.last_gps_at is not null
          then excluded.last_gps_longitude
          when excluded.last_flight_id is not distinct from t.last_flight_id
          then t.last_gps_longitude end,
        last_gps_at = case when excluded.last_gps_at is not null
          then excluded.last_gps_at
          when excluded.last_flight_id is not distinct from t.last_flight_id
          then coalesce(t.last_gps_at, t.last_frame_at) end
    where excluded.last_frame_at > t.last_frame_at
    returning 1
  )
  select (select count(*) from inserted),
         (select coalesce(sum(m.frame_count), 0) from moved as m)::bigint
           - (select count(*) from inserted) - (select o.frames from orphans as o),
         (select o.frames from orphans as o);
end;
$$;

/*
 * public.ingest_frames(body text): stores a group of device requests in one statement (see
 * 20261205080000_stage_frames_without_copies.sql); its batch status counts from the watermark.
 */
create or replace function public.ingest_frames(text)
returns json
language plpgsql
volatile
set search_path = ''
-- Its statements are planned once per connection, not five times first (each plan of the big
-- statement costs about as much as running it for a small group).
set plan_cache_mode = force_generic_plan
set jit = off
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

  -- What was staged before (as telemetry.staged_count counts it, from the flush's watermark,
  -- inline: a call of that SQL function is planned anew in every transaction).
  select s.batch_size,
         (select coalesce(sum(t.frame_count), 0)
          from (select x.frame_count from telemetry.telemetry_staging as x
                where x.id > (select w.moved_through from telemetry.staging_watermark as w)
                order by x.id limit 1000) as t)
  into strict v_batch_size, v_pending
  from telemetry.settings as s
  where s.id;

  -- STORE: check, claim, stage and reject in one statement. Each request's batch status is
  -- what was staged before the call plus the frames of the group up to it; a retry gets it back.
  -- The CTEs carry each request's number, never its parts: the frames (about 1 kB a frame)
  -- are read from v_lines where they are stored, so no sort, hash or CTE copies them (each
  -- copy of a 500 kB literal cost a fresh allocation, its page faults and a memcpy).
  with requests as (
    select r.n, h.device_id, h.key_hash, h.idempotency_key, h.frame_count,
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
           v_lines[4 * f.n + 4]
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
    select s.device_id, s.frame_count, v_lines[4 * s.n + 2]
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
    cross join lateral json_to_recordset(v_lines[4 * s.n + 3]::json)
      as r (line_number integer, raw_text text, reason text)
    where v_lines[4 * s.n + 3] <> '[]'
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
             when p.summary is not null or f.n is not null then json_build_object('ok', true,
               'replayed', true, 'accepted', coalesce(p.accepted, f.frame_count),
               'pending_records', coalesce(p.pending_records, f.pending_records),
               'batch_size', coalesce(p.batch_size, v_batch_size),
               'batch_full', coalesce(p.pending_records, f.pending_records)
                 >= coalesce(p.batch_size, v_batch_size),
               'summary', coalesce(p.summary, v_lines[4 * f.n + 4])::json)
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

/*
 * public.get_batch_status(): the batch status (see 20261204060000_scope_pipeline_figures_to_tenants.sql);
 * the pipeline's oldest staged request is found above the watermark.
 */
create or replace function public.get_batch_status()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
set jit = off
as $$
declare
  -- The pipeline's scope: service_role, or a database session without any JWT (psql, pg_cron,
  -- the benchmark) that has not switched to an API role. Through PostgREST a user always has
  -- role authenticated from their JWT, which this function is executable by.
  v_pipeline boolean := telemetry.is_service_role()
    or (auth.role() is null
        and pg_catalog.current_setting('role') not in ('anon', 'authenticated'));
  v_owner uuid := auth.uid();
  v_batch_size integer;
  v_pending bigint;
  v_oldest timestamptz;
  v_last_flush jsonb;
  v_schedule text;
begin
  select s.batch_size into strict v_batch_size from telemetry.settings as s where s.id;

  if v_pipeline then
    v_pending := telemetry.staged_count(null);
    select s.created_at into v_oldest
    from telemetry.telemetry_staging as s
    where s.id > (select w.moved_through from telemetry.staging_watermark as w)
    order by s.id
    limit 1;
    select jsonb_build_object(
             'started_at', r.started_at, 'finished_at', r.finished_at, 'rows_moved', r.rows_moved,
             'duplicates_dropped', r.duplicates_dropped, 'duration_ms', r.duration_ms)
    into v_last_flush
    from telemetry.flush_runs as r
    order by r.id desc
    limit 1;
  else
    -- Staging holds seconds of requests and has no device index: a scan of what is staged.
    select coalesce(sum(s.frame_count), 0), min(s.created_at) into v_pending, v_oldest
    from telemetry.telemetry_staging as s
    where v_owner is not null
      and s.device_id in (select d.id from telemetry.devices as d where d.owner_id = v_owner);
  end if;

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
    'flush_schedule', v_schedule,
    'scope', case when v_pipeline then 'pipeline' else 'devices' end
  );
end;
$$;
