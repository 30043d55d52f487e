-- A body whose line count is not a multiple of 4 (a request cut short) is refused with 22023,
-- and nothing of it is stored.
begin;
set local search_path = extensions, public;
select plan(3);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('cut@example.com')) as drone \gset
select key_hash as drone_hash from telemetry.devices where id = :'drone' \gset
select telemetry_tests.request_lines(:'drone', :'drone_hash', 'c1', telemetry_tests.frames(2, '2026-05-01 00:00:00+00')) as request \gset

select telemetry_tests.authenticate_as_service_role();
select throws_ok(format('select public.ingest_frames(%L)', :'request' || e'\n\x1e{}'), '22023',
  'the body must hold 4 parts per request, got 5 parts',
  'a body of 5 parts is refused');
select throws_ok(format('select public.ingest_frames(%L)', split_part(:'request', e'\n\x1e', 1)), '22023', null,
  'a lone header line is refused');
select is((select count(*)::integer from telemetry.ingest_requests where device_id = :'drone'), 0,
  'the refused bodies claimed no idempotency key');

select * from finish();
rollback;
