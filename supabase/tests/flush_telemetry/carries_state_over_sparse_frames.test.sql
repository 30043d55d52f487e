-- A device may send only what changed: the flush carries `armed` forward from the frame that
-- sent it, links each GPS fix to the previous fix of the flight whatever frames lie between
-- (also across flush chunks), and its rollups and flights agree.
begin;
set local search_path = extensions, public;
select plan(7);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('cleo@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
-- Flight s1: a frame every 100 ms for 30 s holding only roll; `armed` sent once true at 1.0 s
-- and once false at 21.0 s; a fix every 2 s (0.0001 degree north, about 11 m, each), none from
-- 10 s to 24 s (a 14 s gap between fixes: not flown). Flight s2 after it: frames without
-- `armed` (the state does not carry into another flight).
select public.ingest_telemetry(:'drone', (
  select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'recorded_at', '2026-07-02 10:00:00+00'::timestamptz + g * interval '100 milliseconds',
           'flight_id', 's1', 'roll_degrees', 1,
           'armed', case g when 10 then true when 210 then false end,
           'gps_latitude', case when g % 20 = 0 and (g <= 100 or g >= 240) then 47 + g * 0.000005 end,
           'gps_longitude', case when g % 20 = 0 and (g <= 100 or g >= 240) then 8 end))
         order by g)
  from generate_series(0, 299) as g));
select public.ingest_telemetry(:'drone', (
  select jsonb_agg(jsonb_build_object(
           'recorded_at', '2026-07-02 10:00:31+00'::timestamptz + g * interval '1 second',
           'flight_id', 's2', 'roll_degrees', 2) order by g)
  from generate_series(0, 4) as g));
-- Uneven chunks, so the carried state crosses chunk boundaries (through device_tracks).
select public.flush_telemetry(37);
select public.flush_telemetry(101);
select public.flush_telemetry();

select is(
  (select armed_seconds from public.telemetry_flights where device_id = :'drone' and flight_id = 's1')::numeric(10, 3),
  20.000,
  'armed time runs from the frame that sent true to the frame that sent false: 20 s');
select is(
  (select round(distance_m::numeric, 3) from public.telemetry_flights
   where device_id = :'drone' and flight_id = 's1'),
  (select round((7 * telemetry.gps_distance_m(47, 8, 47.0001, 8))::numeric, 3)),
  'distance adds the 7 steps between fixes at most 10 s apart, not the 14 s gap');
select is(
  (select armed_seconds from public.telemetry_flights where device_id = :'drone' and flight_id = 's2'),
  0::double precision,
  'the armed state does not carry into another flight');
select is(
  (select armed_frames from public.telemetry_hourly_rollups where device_id = :'drone'),
  200::bigint,
  'the rollup counts the frames in the carried armed state');
select is(
  (select array[round(sum(distance_m)::numeric, 6), round(sum(armed_seconds)::numeric, 6)]
   from public.telemetry_hourly_rollups where device_id = :'drone'),
  (select array[round(sum(distance_m)::numeric, 6), round(sum(armed_seconds)::numeric, 6)]
   from public.telemetry_flights where device_id = :'drone'),
  'the hourly rollups and the flights agree');
select is(
  (select array[round(sum(distance_m)::numeric, 6), round(sum(armed_seconds)::numeric, 6)]
   from public.telemetry_daily_rollups where device_id = :'drone'),
  (select array[round(sum(distance_m)::numeric, 6), round(sum(armed_seconds)::numeric, 6)]
   from public.telemetry_flights where device_id = :'drone'),
  'the daily rollups and the flights agree');
select is(
  (select array[last_flight_id, last_armed::text]
   from telemetry.device_tracks where device_id = :'drone'),
  array['s2', null],
  'the track holds the last flight and its carried state');

select * from finish();
rollback;
