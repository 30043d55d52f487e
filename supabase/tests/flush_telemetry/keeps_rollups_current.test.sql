-- The flush keeps the hourly and daily rollups equal to aggregates computed from telemetry
-- itself, across several flushes and with duplicates in between.
begin;
set local search_path = extensions, public;
select plan(4);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('liam@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
-- 3 hours of frames, one a minute, flushed in three uneven runs, with a retry in between.
select public.ingest_telemetry(:'drone', telemetry_tests.frames(100, '2026-07-01 22:30:00+00', '1 minute'));
select public.flush_telemetry(37);
select public.ingest_telemetry(:'drone', telemetry_tests.frames(20, '2026-07-01 22:30:00+00', '1 minute'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(180, '2026-07-01 22:30:00+00', '1 minute'));
select public.flush_telemetry(50);
select public.flush_telemetry();
-- A frame without altitude or battery readings must not disturb min/avg/max.
select public.ingest_telemetry(:'drone', '[{"recorded_at": "2026-07-01T23:59:30Z"}]');
select public.flush_telemetry();

select results_eq(
  format($$select bucket_start, frames, min_altitude_m, avg_altitude_m, max_altitude_m, min_battery_voltage_v,
                  max_groundspeed_ms, armed_frames, first_armed_at, last_armed_at, first_frame_at, last_frame_at
           from public.telemetry_hourly_rollups where device_id = %L order by 1$$, :'drone'),
  format($$select date_trunc('hour', recorded_at, 'UTC'), count(*), min(altitude_m), avg(altitude_m)::real,
                  max(altitude_m), min(battery_voltage_v), max(groundspeed_ms), count(*) filter (where armed),
                  min(recorded_at) filter (where armed), max(recorded_at) filter (where armed),
                  min(recorded_at), max(recorded_at)
           from telemetry.telemetry where device_id = %L group by 1 order by 1$$, :'drone'),
  'the hourly rollups equal the aggregates of the stored frames');
select results_eq(
  format($$select bucket_start, frames, min_altitude_m, avg_altitude_m, max_altitude_m, min_battery_voltage_v,
                  max_groundspeed_ms, armed_frames, first_frame_at, last_frame_at
           from public.telemetry_daily_rollups where device_id = %L order by 1$$, :'drone'),
  format($$select date_trunc('day', recorded_at, 'UTC'), count(*), min(altitude_m), avg(altitude_m)::real,
                  max(altitude_m), min(battery_voltage_v), max(groundspeed_ms), count(*) filter (where armed),
                  min(recorded_at), max(recorded_at)
           from telemetry.telemetry where device_id = %L group by 1 order by 1$$, :'drone'),
  'the daily rollups equal the aggregates of the stored frames');
select is((select sum(frames)::integer from public.telemetry_hourly_rollups where device_id = :'drone'), 181,
  'every stored frame is counted once in the hourly rollups');
select is((select count(*)::integer from public.telemetry_daily_rollups where device_id = :'drone'), 2,
  'frames on both sides of midnight UTC fall into two days');

select * from finish();
rollback;
