-- The flush moves whole staged requests in chunks of at most 5000 frames (a larger request
-- alone), moves at most p_max_rows frames when given (but always at least one request), and
-- refuses a meaningless p_max_rows.
begin;
set local search_path = extensions, public;
select plan(11);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('jack@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
-- 3000 + 1500 frames fit one chunk of 5000, the next 1000 do not: chunks of 4500 and 1010.
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3000, '2026-05-01 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(1500, '2026-05-02 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(1000, '2026-05-03 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(10, '2026-05-04 00:00:00+00'));

select public.flush_telemetry() as flush \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 5510, 'the flush moves every staged frame');
select is((:'flush'::jsonb ->> 'chunks')::integer, 2,
  'in chunks of whole requests holding at most 5000 frames (4500, then 1010)');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone'), 5510,
  'telemetry holds every frame of the four requests');

-- Requests of 8, 2 and 3 frames.
select public.ingest_telemetry(:'drone', telemetry_tests.frames(8, '2026-06-01 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(2, '2026-06-02 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-06-03 00:00:00+00'));

select public.flush_telemetry(1) as flush \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 8,
  'a request larger than p_max_rows still moves, whole and alone');
select is((:'flush'::jsonb ->> 'pending_records')::integer, 5, 'and the answer reports what is left');

select public.flush_telemetry(4) as flush \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 2,
  'p_max_rows bounds the frames moved: the 2-frame request moves, the 3-frame one would exceed 4');
select is((select count(*)::integer from telemetry.telemetry_staging where device_id = :'drone'), 1,
  'and the request that would exceed p_max_rows stays staged, whole');

select public.flush_telemetry() as flush \gset
select is(telemetry.staged_count(), 0::bigint, 'a flush without p_max_rows moves the rest');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone'), 5523,
  'every frame reached telemetry once');
select throws_ok('select public.flush_telemetry(0)', '22023', 'p_max_rows must be at least 1, got 0',
  'p_max_rows below 1 is refused');
select is((public.flush_telemetry() ->> 'rows_moved')::integer, 0, 'an empty staging table flushes nothing');

select * from finish();
rollback;
