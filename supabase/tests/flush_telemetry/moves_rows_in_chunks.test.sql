-- The flush moves rows in chunks of batch_size, moves at most p_max_rows when given, keeps the
-- staging id, and refuses a meaningless p_max_rows.
begin;
set local search_path = extensions, public;
select plan(7);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('jack@example.com')) as drone \gset
select telemetry.run_flush(null, 'api');

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(2, '2026-05-01 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(8, '2026-05-02 00:00:00+00'));
-- After the ingests, which would otherwise have flushed by themselves.
select telemetry_tests.reset_role();
update telemetry.settings set batch_size = 3;
select telemetry_tests.authenticate_as_service_role();
select array_agg(id order by id) as staged_ids from telemetry.telemetry_staging where device_id = :'drone' \gset

select public.flush_telemetry(4) as flush \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 4, 'p_max_rows bounds the rows moved');
select is((:'flush'::jsonb ->> 'chunks')::integer, 2, 'in chunks of at most batch_size');
select is((:'flush'::jsonb ->> 'pending_records')::integer, 6, 'and reports what is left');

select public.flush_telemetry() as flush \gset
select is((:'flush'::jsonb ->> 'chunks')::integer, 2, 'the rest moves in chunks of batch_size (3 + 3)');
select is(
  (select array_agg(id order by id) from telemetry.telemetry where device_id = :'drone'),
  :'staged_ids'::bigint[],
  'a frame keeps its staging id in telemetry');
select throws_ok('select public.flush_telemetry(0)', '22023', 'p_max_rows must be at least 1, got 0',
  'p_max_rows below 1 is refused');
select is((public.flush_telemetry() ->> 'rows_moved')::integer, 0, 'an empty staging table flushes nothing');

select * from finish();
rollback;
