-- When the staged rows reach batch_size, ingest flushes them itself and reports it.
begin;
set local search_path = extensions, public;
select plan(6);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('frank@example.com')) as drone \gset
-- Start from an empty staging table and a batch of 5.
select telemetry.run_flush(null, 'api');
update telemetry.settings set batch_size = 5;

select telemetry_tests.authenticate_as_service_role();
select is(
  public.ingest_telemetry(:'drone', telemetry_tests.frames(4, '2026-02-01 00:00:00+00')),
  '{"accepted": 4, "pending_records": 4, "batch_size": 5, "batch_full": false, "flush_triggered": false}'::jsonb,
  'below batch_size nothing is flushed');
select is(
  public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-02-02 00:00:00+00')),
  '{"accepted": 3, "pending_records": 0, "batch_size": 5, "batch_full": false, "flush_triggered": true}'::jsonb,
  'reaching batch_size flushes, and the answer shows the emptied staging table');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone'), 7,
  'every staged frame was moved into telemetry');
select is((select count(*)::integer from telemetry.telemetry_staging where device_id = :'drone'), 0,
  'nothing of the device is left in staging');
select results_eq(
  $$select triggered_by, rows_moved, chunks from telemetry.flush_runs order by id desc limit 1$$,
  $$values ('ingest'::text, 7::bigint, 2)$$,
  'the flush was logged as triggered by ingest, in chunks of batch_size');
select is(
  public.ingest_telemetry(:'drone', telemetry_tests.frames(1, '2026-02-03 00:00:00+00')) -> 'pending_records',
  '1'::jsonb,
  'the next request starts a new batch');

select * from finish();
rollback;
