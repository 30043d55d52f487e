-- The set-based path stores a whole group with one statement per step; when a statement fails
-- (a value a table constraint refuses), ingest_batch stores the group request by request, so
-- only the bad request fails.
begin;
set local search_path = extensions, public;
select plan(7);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('kim@example.com')) as drone \gset
select key_hash as drone_hash from telemetry.devices where id = :'drone' \gset

select telemetry_tests.authenticate_as_service_role();
select telemetry.ingest_batch_set(jsonb_build_array(
  jsonb_build_object('device_id', :'drone', 'key_hash', :'drone_hash', 'idempotency_key', 's1',
    'frames', telemetry_tests.frames(2, '2026-07-01 00:00:00+00'), 'summary', '{"n": 1}'::jsonb),
  jsonb_build_object('device_id', :'drone', 'key_hash', :'drone_hash', 'idempotency_key', 's1',
    'frames', telemetry_tests.frames(2, '2026-07-01 00:00:00+00'))
)) as set_outcomes \gset
select is((:'set_outcomes'::jsonb -> 0 -> 'answer' -> 'result' ->> 'accepted')::integer, 2,
  'the set path stores a request''s frames');
select is((:'set_outcomes'::jsonb -> 1 -> 'answer' ->> 'replayed')::boolean, true,
  'a key repeated within one group is a replay of the first');
select is((select count(*)::integer from public.telemetry_frames where device_id = :'drone'), 2,
  'and is stored once');

select public.ingest_batch(jsonb_build_array(
  jsonb_build_object('device_id', :'drone', 'key_hash', :'drone_hash', 'idempotency_key', 'f1',
    'frames', telemetry_tests.frames(3, '2026-08-01 00:00:00+00')),
  jsonb_build_object('device_id', :'drone', 'key_hash', :'drone_hash', 'idempotency_key', 'f2',
    'frames', jsonb_build_array(jsonb_build_object(
      'recorded_at', '2026-08-02 00:00:00+00', 'flight_mode', repeat('X', 40))))
)) as outcomes \gset
select is((:'outcomes'::jsonb -> 0 ->> 'ok')::boolean, true, 'the good request of a failing group is stored');
select is(:'outcomes'::jsonb -> 1 ->> 'code', '23514', 'the request a constraint refuses fails alone');
select is((select count(*)::integer from public.telemetry_frames where device_id = :'drone'), 5,
  'with the good request''s frames kept');
select is((select count(*)::integer from telemetry.ingest_requests where device_id = :'drone' and idempotency_key = 'f2'), 0,
  'and the failed request''s key left free for its retry');

select * from finish();
rollback;
