-- Only the service role (the telemetry-parse function) may store device requests through
-- public.ingest_frames.
begin;
set local search_path = extensions, public;
select plan(3);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.authenticate_as_anon();
select throws_ok($$select public.ingest_frames('')$$, '42501', null,
  'anon cannot call ingest_frames');
select telemetry_tests.reset_role();

select telemetry_tests.authenticate_as(telemetry_tests.create_user('jo@example.com'));
select throws_ok($$select public.ingest_frames('')$$, '42501', null,
  'an authenticated user cannot call ingest_frames');
select telemetry_tests.reset_role();

select telemetry_tests.authenticate_as_service_role();
select is(public.ingest_frames('')::jsonb -> 'outcomes', '[]'::jsonb,
  'service_role can, and an empty body stores nothing');

select * from finish();
rollback;
