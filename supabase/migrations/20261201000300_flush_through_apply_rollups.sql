-- The flush hands the rows it inserted to telemetry.apply_rollups (hourly and daily rollups with
-- distance and armed time, flights, device tracks) instead of updating the rollups inline.

/*
 * telemetry.flush_chunk(p_limit, p_last_id): moves the oldest staged requests (up to id
 * p_last_id when given) holding at most p_limit frames, or the oldest one alone when it holds
 * more, into telemetry in ONE statement, and returns how many frames it inserted, dropped as
 * duplicates and dropped as orphans. Called by telemetry.run_flush.
 *
 * - Atomic: the DELETE from staging and the INSERT into telemetry are one statement of one
 *   transaction; if the backend is killed, both roll back, so a frame is in exactly one table.
 * - Concurrency-safe: FOR UPDATE SKIP LOCKED hands each staged request to one flush only, and
 *   the chunk is measured over the requests this flush could lock.
 * - Dedup: ON CONFLICT (device_id, recorded_at) DO NOTHING drops a frame already stored (or
 *   repeated within the chunk); it is counted as a duplicate, not an error.
 * - Rollups, flights and device tracks are updated by telemetry.apply_rollups from the rows
 *   actually inserted, so duplicates never count twice.
 */
create or replace function telemetry.flush_chunk(p_limit integer, p_last_id bigint default null)
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

  -- MOVE them in one statement.
  return query
  with moved as (
    delete from telemetry.telemetry_staging as s
    where s.id = any (v_ids)
    returning s.id, s.device_id, s.created_at, s.frames
  ),
  frames as (
    select m.id as request_id, m.device_id, m.created_at, f.*
    from moved as m
    cross join lateral unnest(m.frames::telemetry.frame_values[]) with ordinality as f
  ),
  inserted as (
    insert into telemetry.telemetry (
      device_id, created_at, recorded_at, flight_id, flight_mode, armed, flight_time_seconds,
      cpu_load_percent, roll_degrees, pitch_degrees, yaw_degrees, heading_degrees,
      roll_rate_dps, pitch_rate_dps, yaw_rate_dps, accel_x_ms2, accel_y_ms2, accel_z_ms2,
      gps_fix_type, gps_satellites, gps_latitude, gps_longitude, gps_altitude_m, gps_speed_ms,
      gps_course_degrees, gps_hdop, gps_vdop, baro_altitude_m, baro_pressure_pa,
      baro_temperature_c, altitude_m, battery_voltage_v, battery_current_a,
      battery_consumed_mah, battery_remaining_percent, motor1_pwm, motor2_pwm, motor3_pwm,
      motor4_pwm, motor5_pwm, motor6_pwm, motor7_pwm, motor8_pwm, pid_roll_p, pid_roll_i,
      pid_roll_d, pid_pitch_p, pid_pitch_i, pid_pitch_d, pid_yaw_p, pid_yaw_i, pid_yaw_d,
      rc_roll, rc_pitch, rc_throttle, rc_yaw, rc_aux1, rc_aux2, rc_aux3, rc_aux4,
      velocity_x_ms, velocity_y_ms, velocity_z_ms, position_x_m, position_y_m, position_z_m,
      magnetometer_x, magnetometer_y, magnetometer_z, temperature_c, humidity_percent,
      failsafe_active, vibration_x, vibration_y, vibration_z, airspeed_ms, groundspeed_ms,
      climb_rate_ms, throttle_percent, rssi_percent, raw_data, parser_version, data_source,
      extra
    )
    select
         f.device_id, f.created_at, coalesce(f.recorded_at, f.created_at), f.flight_id,
         f.flight_mode, f.armed, f.flight_time_seconds, f.cpu_load_percent, f.roll_degrees,
         f.pitch_degrees, f.yaw_degrees, f.heading_degrees, f.roll_rate_dps,
         f.pitch_rate_dps, f.yaw_rate_dps, f.accel_x_ms2, f.accel_y_ms2, f.accel_z_ms2,
         f.gps_fix_type, f.gps_satellites, f.gps_latitude, f.gps_longitude,
         f.gps_altitude_m, f.gps_speed_ms, f.gps_course_degrees, f.gps_hdop, f.gps_vdop,
         f.baro_altitude_m, f.baro_pressure_pa, f.baro_temperature_c, f.altitude_m,
         f.battery_voltage_v, f.battery_current_a, f.battery_consumed_mah,
         f.battery_remaining_percent, f.motor1_pwm, f.motor2_pwm, f.motor3_pwm,
         f.motor4_pwm, f.motor5_pwm, f.motor6_pwm, f.motor7_pwm, f.motor8_pwm,
         f.pid_roll_p, f.pid_roll_i, f.pid_roll_d, f.pid_pitch_p, f.pid_pitch_i,
         f.pid_pitch_d, f.pid_yaw_p, f.pid_yaw_i, f.pid_yaw_d, f.rc_roll, f.rc_pitch,
         f.rc_throttle, f.rc_yaw, f.rc_aux1, f.rc_aux2, f.rc_aux3, f.rc_aux4,
         f.velocity_x_ms, f.velocity_y_ms, f.velocity_z_ms, f.position_x_m, f.position_y_m,
         f.position_z_m, f.magnetometer_x, f.magnetometer_y, f.magnetometer_z,
         f.temperature_c, f.humidity_percent, f.failsafe_active, f.vibration_x,
         f.vibration_y, f.vibration_z, f.airspeed_ms, f.groundspeed_ms, f.climb_rate_ms,
         f.throttle_percent, f.rssi_percent, f.raw_data, f.parser_version, f.data_source,
         f.extra
    from frames as f
    where exists (select from telemetry.devices as d where d.id = f.device_id)
    -- Key order: two flushes inserting the same keys wait on each other in the same order.
    -- Among copies of one key the oldest staged one comes first, and so is the one kept.
    order by f.device_id, 3, f.request_id, f.ordinality
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
  applied as (
    select telemetry.apply_rollups(array_agg(row(
             i.device_id, i.flight_id, i.recorded_at, i.altitude_m, i.battery_voltage_v,
             i.groundspeed_ms, i.armed, i.gps_latitude, i.gps_longitude
           )::telemetry.rollup_sample))
    from inserted as i
  ),
  orphans as (
    select count(*) as n
    from frames as f
    where not exists (select from telemetry.devices as d where d.id = f.device_id)
  )
  select (select count(*) from inserted),
         (select count(*) from frames) - (select count(*) from inserted) - (select o.n from orphans as o),
         (select o.n from orphans as o)
  from applied;
end;
$$;

