-- get_batch_status gives an authenticated user the pipeline counts (all tenants' staged rows,
-- but no row, id or device), and service_role the same.
begin;
set local search_path = extensions, public;
select plan(5);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('xena@example.com') as xena \gset
select telemetry_tests.create_device(telemetry_tests.create_user('yuri@example.com')) as other_drone \gset
select telemetry.run_flush(null, 'api');

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'other_drone', telemetry_tests.frames(4));

select telemetry_tests.authenticate_as(:'xena');
select public.get_batch_status() as status \gset
select is(
  (select array_agg(k order by k) from jsonb_object_keys(:'status'::jsonb) as k),
  array['batch_full', 'batch_size', 'flush_schedule', 'last_flush', 'oldest_pending_age_seconds', 'pending_records'],
  'the status has exactly the documented keys');
select is((:'status'::jsonb ->> 'pending_records')::integer, 4, 'pending_records counts every staged frame');
select is(:'status'::jsonb -> 'batch_full', 'false'::jsonb, 'batch_full compares it with batch_size');
select ok(position(:'other_drone' in :'status') = 0, 'no device id appears in the status');

select telemetry_tests.authenticate_as_service_role();
select is((public.get_batch_status() ->> 'batch_size')::integer, 500, 'service_role gets the status too');

select * from finish();
rollback;
