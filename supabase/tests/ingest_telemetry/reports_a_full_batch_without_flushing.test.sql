-- When the staged frames reach batch_size, ingest answers batch_full = true but flushes nothing
-- itself (telemetry-parse calls public.flush_after_ingest after answering): staging keeps the
-- frames until a flush.
begin;
set local search_path = extensions, public;
select plan(5);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('frank@example.com')) as drone \gset
select coalesce(max(id), 0) as last_run from telemetry.flush_runs \gset
update telemetry.settings set batch_size = 5;

select telemetry_tests.authenticate_as_service_role();
select is(
  public.ingest_telemetry(:'drone', telemetry_tests.frames(4, '2026-02-01 00:00:00+00')),
  '{"accepted": 4, "pending_records": 4, "batch_size": 5, "batch_full": false}'::jsonb,
  'below batch_size the batch is not full');
select is(
  public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-02-02 00:00:00+00')),
  '{"accepted": 3, "pending_records": 7, "batch_size": 5, "batch_full": true}'::jsonb,
  'reaching batch_size answers batch_full = true, with every staged frame still pending');
select is((select sum(frame_count)::integer from telemetry.telemetry_staging where device_id = :'drone'), 7,
  'staging keeps the frames of both requests');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone'), 0,
  'ingest moved nothing into telemetry');
select is_empty(format('select 1 from telemetry.flush_runs where id > %s', :last_run),
  'ingest ran no flush');

select * from finish();
rollback;
