-- A poison request (issue 21 §1): a staged request whose frames Postgres refuses, e.g.
-- roll_degrees 1e-50, which a parser before 2026-12-04 accepted and the cast to real refuses
-- ("out of range for type real"). Before this change:
-- - the flush, on a failing chunk, moved the oldest request alone and tried the chunk again, so
--   it found the poison one request at a time, every attempt redoing the whole chunk's work:
--   605 statements and 31 s for a poison among 512 requests of 4 frames, while every tenant's
--   frames waited;
-- - every read that unpacks staging (telemetry_frames, so telemetry-query; the monitor's
--   get_performance_metrics; device_resume_point; read_telemetry_page's flight bounds) failed
--   with the cast's error, a 500, for as long as the request was staged.
-- Now the flush bisects the failing chunk (O(log n) statements per poison request), and reads
-- unpack staging through telemetry.staged_frames, which hides a request that cannot be unpacked
-- (the flush sets it aside within seconds) instead of failing.

/*
 * telemetry.staged_frames(p_frames): a staged request's frames as telemetry.frame_values[], or
 * an empty array when the text cannot be cast (a frame staged by an older parser that Postgres
 * refuses). Every read of staging unpacks through it, so no endpoint fails while such a request
 * is staged: the request is hidden from reads, as the flush will set it aside whole into
 * telemetry_rejects. The flush itself casts directly, so the error reaches its bisection.
 *
 * Cost: one subtransaction per staged request read (the exception block). Measured: 2,000
 * requests of 5 frames unpacked in 230-310 ms against 175-190 ms with the bare cast, about 30 µs
 * a request on this loaded 2-core machine; staging holds the last seconds of requests, and a
 * read through RLS unpacks only its devices' rows.
 */
create function telemetry.staged_frames(p_frames text)
returns telemetry.frame_values[]
language plpgsql
stable
set search_path = ''
set jit = off
as $$
begin
  return p_frames::telemetry.frame_values[];
exception when data_exception then
  -- Class 22: out of range, invalid text representation, malformed literal.
  return '{}';
end;
$$;
comment on function telemetry.staged_frames(text) is
  'A staged request''s frames, or none when Postgres refuses them (hidden until the flush sets them aside).';
grant execute on function telemetry.staged_frames(text) to authenticated, service_role;

/*
 * telemetry.pick_requests(p_limit, p_last_id): the ids of the oldest staged requests (up to id
 * p_last_id when given) that no other flush holds, holding at most p_limit frames (or the oldest
 * one alone when it holds more), locked FOR UPDATE until the transaction ends. Called by
 * telemetry.flush_chunk and telemetry.run_flush, which then move them with move_requests.
 */
create function telemetry.pick_requests(p_limit integer, p_last_id bigint default null)
returns bigint[]
language plpgsql
volatile
set search_path = ''
set jit = off
as $$
declare
  v_oldest refcursor;
  v_request record;
  v_ids bigint[] := '{}';
  v_frames bigint := 0;
begin
  -- Locked one FETCH at a time: a LIMIT would lock every row it read, and a query loop reads
  -- ahead, so a concurrent flush would find rows locked that this one leaves staged. (The
  -- request that does not fit stays locked until the transaction ends: one row, not a chunk.)
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
  return v_ids;
end;
$$;
comment on function telemetry.pick_requests(integer, bigint) is
  'Locks and returns the ids of the oldest staged requests holding at most p_limit frames. Internal (flush).';
grant execute on function telemetry.pick_requests(integer, bigint) to service_role;

/*
 * telemetry.move_requests(p_ids): moves these staged requests into telemetry in ONE statement
 * (the statement telemetry.flush_chunk ran before, unchanged: delete from staging, insert in
 * staging order with ON CONFLICT DO NOTHING, rollups, flights and device tracks) and returns how
 * many frames it inserted, dropped as duplicates and dropped as orphans. If any frame is refused
 * the statement fails whole and nothing moves. Called by flush_chunk and run_flush.
 */
create function telemetry.move_requests(p_ids bigint[])
returns table (rows_moved bigint, duplicates_dropped bigint, orphans_dropped bigint)
language plpgsql
volatile
set search_path = ''
set jit = off
as $$
begin
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
end;$$;
comment on function telemetry.move_requests(bigint[]) is
  'Moves the given staged requests into telemetry and the rollups in one statement. Internal (flush).';
grant execute on function telemetry.move_requests(bigint[]) to service_role;

/*
 * telemetry.flush_chunk(p_limit, p_last_id): picks and moves one chunk, as before (the
 * concurrency tests call it directly). Keeps its SET clause; adds jit = off.
 */
create or replace function telemetry.flush_chunk(p_limit integer, p_last_id bigint default null)
returns table (rows_moved bigint, duplicates_dropped bigint, orphans_dropped bigint)
language sql
volatile
set search_path = ''
set jit = off
as $$
  select m.rows_moved, m.duplicates_dropped, m.orphans_dropped
  from telemetry.move_requests(telemetry.pick_requests(p_limit, p_last_id)) as m
$$;

/*
 * telemetry.run_flush(p_max_rows, p_triggered_by): one flush run, as before (chunks of whole
 * requests up to 5000 frames, at most p_max_rows frames, one flush at a time, logged in
 * flush_runs), returning {run_id, skipped, rows_moved, duplicates_dropped, orphans_dropped,
 * set_aside, chunks, attempts, started_at, finished_at, duration_ms, pending_records}; attempts
 * counts move statements, the failed ones included.
 *
 * POISON: telemetry-parse makes every value castable to its column (tests/integration prove it
 * against this database), so a refused request is one an older parser staged, or a SQL caller's.
 * When a chunk's move fails with an error about its data, the chunk is bisected in staging
 * order: its first half is moved (or, failing, bisected in turn) before its second, so the oldest
 * copy of a duplicate still wins. A single request that fails alone is set aside whole in
 * telemetry_rejects with the database's reason and its frames' text. One poison request among n
 * costs at most 2 * ceil(log2 n) + 1 move statements, and k of them O(k log n), against n
 * before, each redoing a whole chunk. An error that says nothing about the data (serialization
 * failure, deadlock, lock or resource trouble: classes 40, 53, 55, 57, 58) is raised: the run
 * rolls back and the next one tries again, without setting a good request aside.
 */
create or replace function telemetry.run_flush(p_max_rows integer, p_triggered_by text)
returns jsonb
language plpgsql
volatile
set search_path = ''
set jit = off
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
  v_ids bigint[];
  -- Ranges of v_ids still to move, as a stack (the top is the last element): first and last index.
  v_from integer[];
  v_to integer[];
  v_lo integer;
  v_hi integer;
  v_mid integer;
  v_state text;
  v_error text;
  v_refused bigint;
  v_chunk record;
  v_moved bigint := 0;
  v_duplicates bigint := 0;
  v_orphans bigint := 0;
  v_set_aside bigint := 0;
  v_chunks integer := 0;
  v_attempts integer := 0;
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
      'chunks', 0, 'attempts', 0, 'started_at', v_started, 'finished_at', clock_timestamp(),
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
    -- Locked here, outside the attempts below, so a failed attempt keeps them.
    v_ids := telemetry.pick_requests(v_budget, v_last_id);
    exit when cardinality(v_ids) = 0;
    v_from := array[1];
    v_to := array[cardinality(v_ids)];
    while cardinality(v_from) > 0 loop
      v_lo := v_from[cardinality(v_from)];
      v_hi := v_to[cardinality(v_to)];
      v_from := pg_catalog.trim_array(v_from, 1);
      v_to := pg_catalog.trim_array(v_to, 1);
      v_attempts := v_attempts + 1;
      begin
        select * into v_chunk from telemetry.move_requests(v_ids[v_lo:v_hi]);
        v_moved := v_moved + v_chunk.rows_moved;
        v_duplicates := v_duplicates + v_chunk.duplicates_dropped;
        v_orphans := v_orphans + v_chunk.orphans_dropped;
        v_chunks := v_chunks + 1;
      exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_error = message_text;
        if left(v_state, 2) in ('40', '53', '55', '57', '58') then
          raise;
        end if;
        if v_lo < v_hi then
          -- BISECT: the first half goes on top, so it is moved first.
          v_mid := (v_lo + v_hi) / 2;
          v_from := v_from || array[v_mid + 1, v_lo];
          v_to := v_to || array[v_hi, v_mid];
        else
          -- SET ASIDE the one request that fails alone.
          with refused as (
            delete from telemetry.telemetry_staging as s
            where s.id = v_ids[v_lo]
            returning s.device_id, s.frame_count, s.frames
          ),
          kept as (
            insert into telemetry.telemetry_rejects (device_id, raw_text, raw_length, reason)
            select r.device_id, left(r.frames, 4096), char_length(r.frames),
                   left(format('the flush refused these %s frames: %s', r.frame_count, v_error), 1000)
            from refused as r
            where exists (select from telemetry.devices as d where d.id = r.device_id)
          )
          select coalesce((select sum(r.frame_count) from refused as r), 0) into v_refused;
          raise warning 'flush set a staged request aside in telemetry_rejects: %', left(v_error, 300);
          v_set_aside := v_set_aside + v_refused;
        end if;
      end;
    end loop;
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
    'set_aside', v_set_aside, 'chunks', v_chunks, 'attempts', v_attempts,
    'started_at', v_started, 'finished_at', v_finished,
    'duration_ms', round((extract(epoch from v_finished - v_started) * 1000)::numeric, 3),
    'pending_records', telemetry.staged_count(null));
end;
$$;

-- READS: every read of staging unpacks through telemetry.staged_frames, so a staged request
-- that Postgres refuses is hidden instead of failing the read. Each definition below is the
-- previous one with only that cast changed (and jit = off beside its SET clauses).

/* public.telemetry_frames: as defined in 20261201000090, unpacking staging safely. */
create or replace view public.telemetry_frames
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
  cross join lateral unnest(telemetry.staged_frames(s.frames)) with ordinality as j
) as u
where u.copy = 1
  and not exists (
    select from telemetry.telemetry as t
    where t.device_id = u.device_id and t.recorded_at = u.recorded_at);

/* public.get_performance_metrics(): as in 20261201000090, unpacking staging safely. */
create or replace function public.get_performance_metrics()
returns jsonb
language plpgsql
stable
set search_path = ''
set jit = off
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
    cross join lateral unnest(telemetry.staged_frames(s.frames)) as f
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

/* public.device_resume_point(p_device_id): as in 20261201000700, unpacking staging safely. */
create or replace function public.device_resume_point(p_device_id uuid)
returns timestamptz
language sql
stable
set search_path = ''
set jit = off
as $$
  select greatest(
    (select max(t.recorded_at) from telemetry.telemetry as t where t.device_id = p_device_id),
    (select max(coalesce(f.recorded_at, s.created_at))
     from telemetry.telemetry_staging as s
     cross join lateral unnest(telemetry.staged_frames(s.frames)) as f
     where s.device_id = p_device_id)
  )
$$;

/*
 * public.read_telemetry_page(...): its flight bounds unpack the device's staged requests. Its
 * definition belongs to the query's own migrations (another change may redefine it), so only
 * that one cast is replaced in whatever definition is current, keeping the rest and its SET
 * clauses; the e2e test of staged poison rows (tests/integration/poison_frame_test.ts) fails if
 * a later definition brings the direct cast back.
 */
do $$
declare
  v_definition text := pg_catalog.pg_get_functiondef(
    'public.read_telemetry_page(uuid, text, timestamptz, timestamptz, text, boolean, integer, integer, jsonb, text[], integer)'::regprocedure);
  v_cast constant text := 'unnest(st.frames::telemetry.frame_values[])';
begin
  if pg_catalog.strpos(v_definition, v_cast) = 0 then
    raise exception 'read_telemetry_page no longer unpacks staging with %; review this migration', v_cast;
  end if;
  execute pg_catalog.replace(v_definition, v_cast, 'unnest(telemetry.staged_frames(st.frames))');
end;
$$;
