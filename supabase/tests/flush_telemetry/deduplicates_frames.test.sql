-- The flush drops a frame whose (device_id, recorded_at) is already stored, or repeated within
-- the chunk, and counts it: rows before = rows moved + duplicates + rows left, exactly.
begin;
set local search_path = extensions, public;
select plan(6);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('ivy@example.com')) as drone \gset
select telemetry.run_flush(null, 'api');

select telemetry_tests.authenticate_as_service_role();
-- 3 frames already stored, then a request repeating them plus 4 new frames twice over.
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-04-01 00:00:00+00'));
select public.flush_telemetry();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(7, '2026-04-01 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(7, '2026-04-01 00:00:00+00'));
select telemetry.staged_count() as staged_before \gset

select public.flush_telemetry() as flush \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 4, 'only the 4 new frames are inserted');
select is((:'flush'::jsonb ->> 'duplicates_dropped')::integer, 10,
  'the 6 copies of stored frames and the 4 repeats within the chunk are counted as duplicates');
select is(
  (:'flush'::jsonb ->> 'rows_moved')::integer + (:'flush'::jsonb ->> 'duplicates_dropped')::integer
    + (:'flush'::jsonb ->> 'orphans_dropped')::integer + telemetry.staged_count()::integer,
  :staged_before,
  'staged rows before = moved + duplicates + orphans + staged rows after');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone'), 7,
  'telemetry holds the 7 distinct frames');
select is(
  (select count(*)::integer from (select distinct device_id, recorded_at from telemetry.telemetry where device_id = :'drone') as d),
  7,
  'with no two rows for one (device_id, recorded_at)');
select is((select sum(frames)::integer from telemetry.hourly_rollups where device_id = :'drone'), 7,
  'the rollups counted each frame once');

select * from finish();
rollback;
