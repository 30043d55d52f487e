-- ingest_batch stores several device requests in one call: each in its own subtransaction, so a
-- revoked device's or a stale key's request fails alone; a repeated idempotency key replays the
-- first answer.
begin;
set local search_path = extensions, public;
select plan(9);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('hana@example.com')) as good \gset
select telemetry_tests.create_device(telemetry_tests.create_user('ivan@example.com')) as gone \gset
update telemetry.devices set revoked_at = now() where id = :'gone';
select key_hash as good_hash from telemetry.devices where id = :'good' \gset
select key_hash as gone_hash from telemetry.devices where id = :'gone' \gset

select telemetry_tests.authenticate_as_service_role();
select public.ingest_batch(jsonb_build_array(
  jsonb_build_object('device_id', :'good', 'key_hash', :'good_hash', 'idempotency_key', 'k1',
    'frames', telemetry_tests.frames(3, '2026-05-01 00:00:00+00'),
    'rejects', '[{"line_number": 4, "raw_text": "roll:999", "reason": "out of range"}]'::jsonb,
    'summary', '{"accepted": 3}'::jsonb),
  jsonb_build_object('device_id', :'gone', 'key_hash', :'gone_hash', 'idempotency_key', 'k2',
    'frames', telemetry_tests.frames(2, '2026-05-01 00:00:00+00')),
  jsonb_build_object('device_id', :'good', 'key_hash', :'good_hash', 'idempotency_key', 'k1',
    'frames', telemetry_tests.frames(3, '2026-05-01 00:00:00+00')),
  jsonb_build_object('device_id', :'good', 'key_hash', repeat('0', 64), 'idempotency_key', 'k3',
    'frames', telemetry_tests.frames(1, '2026-06-01 00:00:00+00'))
)) as outcomes \gset

select is(jsonb_array_length(:'outcomes'::jsonb), 4, 'one outcome per request, in order');
select is((:'outcomes'::jsonb -> 0 ->> 'ok')::boolean, true, 'the good device''s request is stored');
select is((:'outcomes'::jsonb -> 0 -> 'answer' -> 'result' ->> 'accepted')::integer, 3,
  'with its frames counted');
select is(:'outcomes'::jsonb -> 1 ->> 'code', 'P0002', 'the revoked device''s request fails alone');
select is(:'outcomes'::jsonb -> 3 ->> 'code', 'P0002',
  'a key that is no longer the device''s (rotated) is refused');
select is((:'outcomes'::jsonb -> 2 -> 'answer' ->> 'replayed')::boolean, true,
  'a repeated key replays the first answer');
select is((:'outcomes'::jsonb -> 2 -> 'answer' -> 'summary' ->> 'accepted')::integer, 3,
  'with the summary the first request stored');
select is((select count(*)::integer from public.telemetry_frames where device_id = :'good'), 3,
  'the replay stores nothing twice');
select is((select count(*)::integer from telemetry.telemetry_rejects where device_id = :'good'), 1,
  'the rejected line is kept');

select * from finish();
rollback;
