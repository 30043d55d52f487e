-- telemetry.frames shows a frame the moment ingest accepted it (staged, its id null until
-- the flush gives it one), and each (device_id, recorded_at) once, whether flushed, staged, or
-- both: the flushed copy first, else the first staged request's.
begin;
set local search_path = extensions, public;
select plan(6);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('mia@example.com') as mia \gset
select telemetry_tests.create_device(:'mia') as drone \gset

select telemetry_tests.authenticate_as_service_role();
-- Frames at 00:00:00, :01, :02 with altitudes 101, 102, 103.
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-08-01 00:00:00+00'));

select telemetry_tests.authenticate_as(:'mia');
select results_eq(
  $$select count(*)::integer, count(id)::integer from telemetry.frames$$,
  $$values (3, 0)$$,
  'staged frames are visible before any flush, without an id yet');

select telemetry_tests.authenticate_as_service_role();
select public.flush_telemetry();
-- :01 to :04 (altitudes 101 to 104): 2 frames already flushed again, 2 new ones; then :03 and
-- :04 once more (altitudes 101, 102).
select public.ingest_telemetry(:'drone', telemetry_tests.frames(4, '2026-08-01 00:00:01+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(2, '2026-08-01 00:00:03+00'));

select telemetry_tests.authenticate_as(:'mia');
select is((select count(*)::integer from telemetry.frames), 5, 'each frame is listed once');
select results_eq(
  $$select recorded_at, id is not null, altitude_m from telemetry.frames order by recorded_at$$,
  $$values ('2026-08-01 00:00:00+00'::timestamptz, true, 101::real),
           ('2026-08-01 00:00:01+00', true, 102),
           ('2026-08-01 00:00:02+00', true, 103),
           ('2026-08-01 00:00:03+00', false, 103),
           ('2026-08-01 00:00:04+00', false, 104)$$,
  'a flushed frame wins over its staged copies, and of repeated staged frames the first accepted is shown');
select is(
  (select count(*)::integer from (select distinct device_id, recorded_at from telemetry.frames) as d),
  5,
  'no (device_id, recorded_at) appears twice');

select telemetry_tests.authenticate_as_service_role();
select public.flush_telemetry();
select telemetry_tests.authenticate_as(:'mia');
select results_eq(
  $$select recorded_at, altitude_m from telemetry.frames order by recorded_at$$,
  $$values ('2026-08-01 00:00:00+00'::timestamptz, 101::real), ('2026-08-01 00:00:01+00', 102),
           ('2026-08-01 00:00:02+00', 103), ('2026-08-01 00:00:03+00', 103), ('2026-08-01 00:00:04+00', 104)$$,
  'after the flush the same frames are shown, the ones the view showed while staged');
select is((select count(*)::integer from telemetry.frames where id is null), 0,
  'and every flushed frame has an id');

select * from finish();
rollback;
