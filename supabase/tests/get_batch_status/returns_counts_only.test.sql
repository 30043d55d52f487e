-- get_batch_status counts frames like the frames are scoped: service_role gets the whole
-- pipeline (every tenant's staged frames, the last flush); an authenticated user only the staged
-- frames of their own devices (a user without devices gets zeros), and never the flush log,
-- whose rows_moved counts every tenant's frames. No row, id or device appears in either.
begin;
set local search_path = extensions, public;
select plan(14);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('xena@example.com') as xena \gset
select telemetry_tests.create_user('yuri@example.com') as yuri \gset
select telemetry_tests.create_user('zoe@example.com') as zoe \gset
select telemetry_tests.create_device(:'yuri') as yuri_drone \gset
select telemetry_tests.create_device(:'zoe') as zoe_drone \gset
select telemetry.run_flush(null, 'api');

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'yuri_drone', telemetry_tests.frames(4));
select public.ingest_telemetry(:'zoe_drone', telemetry_tests.frames(7));

select telemetry_tests.authenticate_as(:'xena');
select public.get_batch_status() as status \gset
select is(
  (select array_agg(k order by k) from jsonb_object_keys(:'status'::jsonb) as k),
  array['batch_full', 'batch_size', 'flush_schedule', 'last_flush', 'oldest_pending_age_seconds',
        'pending_records', 'scope'],
  'the status has exactly the documented keys');
select is((:'status'::jsonb ->> 'pending_records')::integer, 0,
  'a user without devices counts no staged frame of another tenant');
select is(:'status'::jsonb -> 'oldest_pending_age_seconds', 'null'::jsonb,
  'a user without devices has no oldest pending frame');
select is(:'status'::jsonb -> 'last_flush', 'null'::jsonb,
  'a user never gets the flush log, which counts every tenant''s rows');
select is(:'status'::jsonb ->> 'scope', 'devices', 'a user''s status is scoped to their devices');
select is((:'status'::jsonb ->> 'batch_size')::integer, 500, 'batch_size is a setting, given to all');

select telemetry_tests.authenticate_as(:'yuri');
select public.get_batch_status() as status \gset
select is((:'status'::jsonb ->> 'pending_records')::integer, 4,
  'an owner counts the staged frames of their own devices only');
select ok((:'status'::jsonb ->> 'oldest_pending_age_seconds')::numeric >= 0,
  'an owner gets the age of their oldest staged frame');
select ok(position(:'yuri_drone' in :'status') = 0, 'no device id appears in the status');
select is(:'status'::jsonb -> 'batch_full', 'false'::jsonb, 'batch_full compares it with batch_size');

select telemetry_tests.authenticate_as_service_role();
select public.get_batch_status() as status \gset
select is((:'status'::jsonb ->> 'pending_records')::integer, 11,
  'service_role counts every staged frame');
select ok(:'status'::jsonb -> 'last_flush' <> 'null'::jsonb, 'service_role gets the last flush');
select is(:'status'::jsonb ->> 'scope', 'pipeline', 'service_role''s status is the pipeline''s');

select telemetry_tests.reset_role();
select is((public.get_batch_status() ->> 'pending_records')::integer, 11,
  'a database session without a JWT (psql, pg_cron, the benchmark) gets the pipeline''s counts');

select * from finish();
rollback;
