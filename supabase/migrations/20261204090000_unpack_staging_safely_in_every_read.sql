-- Every read of staging unpacks it through telemetry.staged_frames (20261204040000), which hides
-- a staged request Postgres refuses until the flush sets it aside, instead of failing the read.
-- Two reads written beside that change still cast directly: telemetry.frames (the view
-- read_telemetry_page reads, 20261204030100) and public.get_operator_monitor (20261204060000).
-- Each is redefined here with only that cast changed. public.telemetry_frames is again the view
-- of telemetry.frames for service role that 20261204030100 made it (20261204040000 had replaced
-- it by a copy of its older definition).

/* telemetry.frames: as in 20261204030100, unpacking staging safely. */
create or replace view telemetry.frames
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

create or replace view public.telemetry_frames
with (security_invoker = true)
as
select f.* from telemetry.frames as f;

/*
 * public.get_operator_monitor(): as in 20261204060000, unpacking staging safely. Only the cast is
 * replaced in the current definition, which keeps its SET clauses (jit = off among them).
 */
do $$
declare
  v_definition text := pg_catalog.pg_get_functiondef('public.get_operator_monitor()'::regprocedure);
  v_cast constant text := 'unnest(s.frames::telemetry.frame_values[])';
begin
  if pg_catalog.strpos(v_definition, v_cast) = 0 then
    raise exception 'get_operator_monitor no longer unpacks staging with %; review this migration', v_cast;
  end if;
  execute pg_catalog.replace(v_definition, v_cast, 'unnest(telemetry.staged_frames(s.frames))');
end;
$$;

-- create_device was redefined (20261204050000, the device cap) after every function was given
-- jit = off (20261204030000) without it.
alter function public.create_device(text, uuid) set jit = off;
