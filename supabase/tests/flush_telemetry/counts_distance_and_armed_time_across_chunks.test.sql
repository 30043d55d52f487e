-- The flush counts distance flown and time armed between consecutive frames of a flight,
-- including the segments that span two flush chunks, skips gaps over 10 s, and keeps one
-- summary per flight.
begin;
set local search_path = extensions, public;
select plan(6);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('ava@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
-- Flight f1: 20 frames 1 s apart, armed, heading north 0.001 degree (about 111 m) a second;
-- then one frame 60 s later (a gap: not counted); flight f2: 3 frames, disarmed.
select public.ingest_telemetry(:'drone', (
  select jsonb_agg(jsonb_build_object(
           'recorded_at', '2026-07-01 10:59:50+00'::timestamptz + g * interval '1 second',
           'flight_id', 'f1', 'armed', true, 'battery_voltage_v', 16 - g * 0.1,
           'gps_latitude', 47 + g * 0.001, 'gps_longitude', 8) order by g)
  from generate_series(0, 19) as g));
select public.ingest_telemetry(:'drone',
  '[{"recorded_at": "2026-07-01T11:01:09Z", "flight_id": "f1", "armed": true,
     "gps_latitude": 48, "gps_longitude": 8},
    {"recorded_at": "2026-07-01T12:00:00Z", "flight_id": "f2", "armed": false, "gps_latitude": 47, "gps_longitude": 8},
    {"recorded_at": "2026-07-01T12:00:01Z", "flight_id": "f2", "armed": false, "gps_latitude": 47, "gps_longitude": 8.001},
    {"recorded_at": "2026-07-01T12:00:02Z", "flight_id": "f2", "armed": false}]');
-- Uneven chunks, so segments cross chunk boundaries.
select public.flush_telemetry(7);
select public.flush_telemetry(5);
select public.flush_telemetry();

select is(
  (select round(sum(distance_m)::numeric, 3) from public.telemetry_hourly_rollups where device_id = :'drone'),
  (select round((19 * telemetry.gps_distance_m(47, 8, 47.001, 8)
                 + telemetry.gps_distance_m(47, 8, 47, 8.001))::numeric, 3)),
  'distance sums the 19 steps of f1 and the one of f2, and skips the 60 s gap');
select is(
  (select array_agg(round(distance_m)::integer order by bucket_start) from public.telemetry_hourly_rollups
   where device_id = :'drone'),
  array[1001, 1112, 76],
  'each segment counts in the hour of its later frame');
select is(
  (select sum(armed_seconds) from public.telemetry_daily_rollups where device_id = :'drone'),
  19::double precision,
  'armed time is 19 s: f1''s armed segments, not the gap, not the disarmed f2');
select is(
  (select round(avg_battery_voltage_v::numeric, 2) from public.telemetry_hourly_rollups
   where device_id = :'drone' and bucket_start = '2026-07-01 11:00+00'),
  (select round(avg(16 - g * 0.1)::numeric, 2) from generate_series(10, 19) as g),
  'the average battery voltage of an hour counts the frames that report one');
select results_eq(
  format($$select flight_id, started_at, ended_at, duration_seconds, frames, armed_seconds
           from public.telemetry_flights where device_id = %L order by flight_id$$, :'drone'),
  $$values ('f1', '2026-07-01 10:59:50+00'::timestamptz, '2026-07-01 11:01:09+00'::timestamptz, 79::double precision, 21::bigint, 19::double precision),
           ('f2', '2026-07-01 12:00:00+00', '2026-07-01 12:00:02+00', 2, 3, 0)$$,
  'each flight has its start, end, duration, frames and armed time');

select telemetry_tests.reset_role();
select telemetry_tests.create_device(telemetry_tests.create_user('ben@example.com')) as other \gset
select telemetry_tests.authenticate_as((select owner_id from telemetry.devices where id = :'other'));
select is_empty(
  format($$select 1 from public.telemetry_flights where device_id = %L$$, :'drone'),
  'another tenant sees none of the drone''s flights');

select * from finish();
rollback;
