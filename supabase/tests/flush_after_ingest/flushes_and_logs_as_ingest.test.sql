-- public.flush_after_ingest (called by telemetry-parse after answering a request that filled a
-- batch) flushes every staged frame and logs the run as triggered by 'ingest'. Who may call it:
-- rls/authenticated_cannot_call_pipeline_functions.
begin;
set local search_path = extensions, public;
select plan(5);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('fay@example.com')) as drone \gset
update telemetry.settings set batch_size = 5;

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(4, '2026-02-01 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-02-02 00:00:00+00'));

select public.flush_after_ingest() as flush \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 7, 'flush_after_ingest moves every staged frame');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone'), 7,
  'into telemetry');
select is((select count(*)::integer from telemetry.telemetry_staging where device_id = :'drone'), 0,
  'leaving nothing of the device in staging');
select results_eq(
  format($$select triggered_by, rows_moved, chunks from telemetry.flush_runs where id = %s$$, :'flush'::jsonb ->> 'run_id'),
  $$values ('ingest'::text, 7::bigint, 1)$$,
  'the run is logged as triggered by ingest');
select is(
  public.ingest_telemetry(:'drone', telemetry_tests.frames(1, '2026-02-03 00:00:00+00')) -> 'pending_records',
  '1'::jsonb,
  'the next request starts a new batch');

select * from finish();
rollback;
