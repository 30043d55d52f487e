-- Only the service role (the ingest function) may store device requests.
begin;
set local search_path = extensions, public;
select plan(3);

select telemetry_tests.authenticate_as_anon();
select throws_ok($$select public.ingest_batch('[]'::jsonb)$$, '42501', null,
  'anon cannot call ingest_batch');
select telemetry_tests.reset_role();

select telemetry_tests.authenticate_as(telemetry_tests.create_user('jo@example.com'));
select throws_ok($$select public.ingest_batch('[]'::jsonb)$$, '42501', null,
  'an authenticated user cannot call ingest_batch');
select telemetry_tests.reset_role();

select telemetry_tests.authenticate_as_service_role();
select is(public.ingest_batch('[]'::jsonb), '[]'::jsonb, 'service_role can, and an empty batch stores nothing');

select * from finish();
rollback;
