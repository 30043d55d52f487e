-- telemetry.telemetry has exactly the columns of the field catalogue (the 76 typed fields of
-- the shared contract, in its order) between the key/metadata columns, each with its type.
begin;
set local search_path = extensions, public;
select plan(3);

select results_eq(
  $$select a.attnum::integer, a.attname::text collate "default", pg_catalog.format_type(a.atttypid, a.atttypmod)
    from pg_catalog.pg_attribute as a
    where a.attrelid = 'telemetry.telemetry'::regclass and a.attnum > 0 and not a.attisdropped
    order by a.attnum$$,
  $$values
    (1, 'id', 'bigint'),
    (2, 'device_id', 'uuid'),
    (3, 'flight_id', 'text'),
    (4, 'recorded_at', 'timestamp with time zone'),
    (5, 'created_at', 'timestamp with time zone'),
    (6, 'flight_mode', 'text'),
    (7, 'armed', 'boolean'),
    (8, 'flight_time_seconds', 'real'),
    (9, 'cpu_load_percent', 'real'),
    (10, 'roll_degrees', 'real'),
    (11, 'pitch_degrees', 'real'),
    (12, 'yaw_degrees', 'real'),
    (13, 'heading_degrees', 'real'),
    (14, 'roll_rate_dps', 'real'),
    (15, 'pitch_rate_dps', 'real'),
    (16, 'yaw_rate_dps', 'real'),
    (17, 'accel_x_ms2', 'real'),
    (18, 'accel_y_ms2', 'real'),
    (19, 'accel_z_ms2', 'real'),
    (20, 'gps_fix_type', 'smallint'),
    (21, 'gps_satellites', 'smallint'),
    (22, 'gps_latitude', 'double precision'),
    (23, 'gps_longitude', 'double precision'),
    (24, 'gps_altitude_m', 'real'),
    (25, 'gps_speed_ms', 'real'),
    (26, 'gps_course_degrees', 'real'),
    (27, 'gps_hdop', 'real'),
    (28, 'gps_vdop', 'real'),
    (29, 'baro_altitude_m', 'real'),
    (30, 'baro_pressure_pa', 'real'),
    (31, 'baro_temperature_c', 'real'),
    (32, 'altitude_m', 'real'),
    (33, 'battery_voltage_v', 'real'),
    (34, 'battery_current_a', 'real'),
    (35, 'battery_consumed_mah', 'real'),
    (36, 'battery_remaining_percent', 'real'),
    (37, 'motor1_pwm', 'integer'),
    (38, 'motor2_pwm', 'integer'),
    (39, 'motor3_pwm', 'integer'),
    (40, 'motor4_pwm', 'integer'),
    (41, 'motor5_pwm', 'integer'),
    (42, 'motor6_pwm', 'integer'),
    (43, 'motor7_pwm', 'integer'),
    (44, 'motor8_pwm', 'integer'),
    (45, 'pid_roll_p', 'real'),
    (46, 'pid_roll_i', 'real'),
    (47, 'pid_roll_d', 'real'),
    (48, 'pid_pitch_p', 'real'),
    (49, 'pid_pitch_i', 'real'),
    (50, 'pid_pitch_d', 'real'),
    (51, 'pid_yaw_p', 'real'),
    (52, 'pid_yaw_i', 'real'),
    (53, 'pid_yaw_d', 'real'),
    (54, 'rc_roll', 'real'),
    (55, 'rc_pitch', 'real'),
    (56, 'rc_throttle', 'real'),
    (57, 'rc_yaw', 'real'),
    (58, 'rc_aux1', 'real'),
    (59, 'rc_aux2', 'real'),
    (60, 'rc_aux3', 'real'),
    (61, 'rc_aux4', 'real'),
    (62, 'velocity_x_ms', 'real'),
    (63, 'velocity_y_ms', 'real'),
    (64, 'velocity_z_ms', 'real'),
    (65, 'position_x_m', 'real'),
    (66, 'position_y_m', 'real'),
    (67, 'position_z_m', 'real'),
    (68, 'magnetometer_x', 'real'),
    (69, 'magnetometer_y', 'real'),
    (70, 'magnetometer_z', 'real'),
    (71, 'temperature_c', 'real'),
    (72, 'humidity_percent', 'real'),
    (73, 'failsafe_active', 'boolean'),
    (74, 'vibration_x', 'real'),
    (75, 'vibration_y', 'real'),
    (76, 'vibration_z', 'real'),
    (77, 'airspeed_ms', 'real'),
    (78, 'groundspeed_ms', 'real'),
    (79, 'climb_rate_ms', 'real'),
    (80, 'throttle_percent', 'real'),
    (81, 'rssi_percent', 'real'),
    (82, 'raw_data', 'text'),
    (83, 'parser_version', 'text'),
    (84, 'data_source', 'text'),
    (85, 'extra', 'jsonb')$$,
  'telemetry.telemetry has every catalogue column, in catalogue order, with its type'
);

select is(
  (select count(*)::integer
   from pg_catalog.pg_attribute as a
   where a.attrelid = 'telemetry.telemetry'::regclass and a.attnum > 5 and a.attnum <= 81),
  76,
  'the catalogue part of telemetry holds 76 typed fields'
);

select col_is_pk('telemetry', 'telemetry_staging', 'id', 'telemetry_staging is keyed by its identity id');

select * from finish();
rollback;
