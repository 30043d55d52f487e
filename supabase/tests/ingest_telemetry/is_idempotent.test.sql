-- The same frames sent twice (a device retry) are stored once, whether the retry arrives before
-- or after the flush.
begin;
set local search_path = extensions, public;
select plan(6);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('gina@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(5, '2026-03-01 12:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(5, '2026-03-01 12:00:00+00'));
select is((select count(*)::integer from public.telemetry_frames where device_id = :'drone'), 5,
  'a retried request is visible once before the flush');

select public.flush_telemetry() as flush \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 5, 'the flush stores each frame once');
select is((:'flush'::jsonb ->> 'duplicates_dropped')::integer, 5, 'and counts the retried copies as duplicates');

select public.ingest_telemetry(:'drone', telemetry_tests.frames(5, '2026-03-01 12:00:00+00'));
select is((select count(*)::integer from public.telemetry_frames where device_id = :'drone'), 5,
  'a retry after the flush is still visible once');
select public.flush_telemetry() as flush \gset
select is((:'flush'::jsonb ->> 'duplicates_dropped')::integer, 5, 'the late retry is dropped as duplicates');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone'), 5,
  'telemetry holds each frame once');

select * from finish();
rollback;
