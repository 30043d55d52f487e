-- Rollups, flights and tracks that are right on sparse frames (issue 20): a device may send only
-- what changed, and the PX4 importer's --raw mode sends one frame per log message. Before, the
-- flush linked consecutive frames only, so a segment whose earlier frame lacked `armed`, or a
-- step to or from a frame without GPS, counted nothing: the sample log's flight came out with
-- 0.1 s armed of 5.6 s and 0 m flown.
--
-- Now, per device and flight:
-- - `armed` carries forward: a frame without it has the state its device and flight sent last
--   (also across flush chunks, through telemetry.device_tracks.last_armed). A segment between
--   consecutive frames at most 10 s apart counts as armed when its earlier frame's state is
--   armed; the rollups' armed_frames and first/last_armed_at count the carried state too.
-- - distance adds the great-circle step between consecutive GPS fixes at most 10 s apart,
--   whatever frames without a fix lie between them; the last fix of the flight carries across
--   chunks (device_tracks.last_gps_latitude/longitude and the new last_gps_at).
-- - the rollups and the flights sum the same measured rows, so they agree.
-- A longer silence is still not assumed armed or flown. Rollups and flights of frames flushed
-- before this migration keep the counts they had.

alter table telemetry.device_tracks add column last_gps_at timestamptz;
comment on column telemetry.device_tracks.last_gps_at is
  'When the device''s last GPS fix (last_gps_latitude, last_gps_longitude) was recorded.';
comment on column telemetry.device_tracks.last_armed is
  'The armed state carried to the last frame (the last `armed` the device sent in that flight).';

/*
 * telemetry.move_requests(p_ids): as in migration set_aside_poison_requests_by_bisection (moves
 * the given staged requests into telemetry in one statement and keeps the rollups, flights and
 * tracks current from the rows it inserted), with the state carried forward as described above.
 * Called by telemetry.flush_chunk and telemetry.run_flush (which bisects a failing chunk).
 */
create or replace function telemetry.move_requests(p_ids bigint[])
returns table (rows_moved bigint, duplicates_dropped bigint, orphans_dropped bigint)
language plpgsql
volatile
set search_path = ''
-- A flush chunk is one big statement, cheap to run and costly to JIT-compile (about 100 ms).
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
grant execute on function telemetry.move_requests(bigint[]) to service_role;
