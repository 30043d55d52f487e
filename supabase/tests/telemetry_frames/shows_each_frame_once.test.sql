-- public.telemetry_frames shows a frame the moment ingest accepted it, and each
-- (device_id, recorded_at) once, whether flushed, staged, or both.
begin;
set local search_path = extensions, public;
select plan(4);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('mia@example.com') as mia \gset
select telemetry_tests.create_device(:'mia') as drone \gset

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-08-01 00:00:00+00'));

select telemetry_tests.authenticate_as(:'mia');
select is((select count(*)::integer from public.telemetry_frames), 3, 'staged frames are visible before any flush');

select telemetry_tests.authenticate_as_service_role();
select public.flush_telemetry();
-- 2 already flushed frames again, 2 new ones twice.
select public.ingest_telemetry(:'drone', telemetry_tests.frames(4, '2026-08-01 00:00:01+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(2, '2026-08-01 00:00:03+00'));

select telemetry_tests.authenticate_as(:'mia');
select is((select count(*)::integer from public.telemetry_frames), 5, 'each frame is listed once');
select results_eq(
  $$select id from public.telemetry_frames where recorded_at in ('2026-08-01 00:00:03+00', '2026-08-01 00:00:04+00') order by id$$,
  $$select min(id) from telemetry.telemetry_staging where recorded_at in ('2026-08-01 00:00:03+00', '2026-08-01 00:00:04+00')
    group by recorded_at order by 1$$,
  'of repeated staged frames, the first accepted is shown');
select is(
  (select count(*)::integer from (select distinct device_id, recorded_at from public.telemetry_frames) as d),
  5,
  'no (device_id, recorded_at) appears twice');

select * from finish();
rollback;
