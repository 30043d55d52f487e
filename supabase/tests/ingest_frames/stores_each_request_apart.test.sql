-- ingest_frames stores each request of a group apart: a request whose key is not the device's
-- current one (the device revoked, or the key rotated) gets P0002 and stores nothing, while the
-- other requests of the same body are stored, one staging row each, and the answer has one
-- outcome per request in body order.
begin;
set local search_path = extensions, public;
select plan(10);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('hana@example.com')) as good \gset
select telemetry_tests.create_device(telemetry_tests.create_user('ivan@example.com')) as gone \gset
update telemetry.devices set revoked_at = now() where id = :'gone';
select key_hash as good_hash from telemetry.devices where id = :'good' \gset
select key_hash as gone_hash from telemetry.devices where id = :'gone' \gset

select telemetry_tests.authenticate_as_service_role();
select public.ingest_frames(concat_ws(e'\n\x1e',
  telemetry_tests.request_lines(:'good', :'good_hash', 'k1', telemetry_tests.frames(3, '2026-05-01 00:00:00+00')),
  telemetry_tests.request_lines(:'gone', :'gone_hash', 'k2', telemetry_tests.frames(2, '2026-05-01 00:00:00+00')),
  telemetry_tests.request_lines(:'good', repeat('0', 64), 'k3', telemetry_tests.frames(1, '2026-06-01 00:00:00+00')),
  telemetry_tests.request_lines(:'good', :'good_hash', 'k4', telemetry_tests.frames(4, '2026-07-01 00:00:00+00'))
))::jsonb as answer \gset

select is(jsonb_array_length(:'answer'::jsonb -> 'outcomes'), 4, 'one outcome per request');
select is(:'answer'::jsonb -> 'outcomes' -> 0, '{"ok": true, "replayed": false, "accepted": 3, "pending_records": 3, "batch_size": 500, "batch_full": false}'::jsonb,
  'the good device''s first request is stored with its frames counted');
select is(:'answer'::jsonb -> 'outcomes' -> 1 ->> 'code', 'P0002', 'the revoked device''s request fails alone');
select is(:'answer'::jsonb -> 'outcomes' -> 2 ->> 'code', 'P0002',
  'a key that is no longer the device''s (rotated) is refused');
select is(:'answer'::jsonb -> 'outcomes' -> 3, '{"ok": true, "replayed": false, "accepted": 4, "pending_records": 7, "batch_size": 500, "batch_full": false}'::jsonb,
  'a request after the refused ones is still stored, in body order');
select results_eq(
  format($$select device_id, frame_count from telemetry.telemetry_staging where device_id in (%L, %L) order by id$$,
         :'good', :'gone'),
  format($$values (%L::uuid, 3), (%L::uuid, 4)$$, :'good', :'good'),
  'each stored request is one staging row, in body order, and the refused ones none');
select is((select count(*)::integer from public.telemetry_frames where device_id = :'good'), 7,
  'the stored requests'' frames are readable at once');
select is((select count(*)::integer from public.telemetry_frames where device_id = :'gone'), 0,
  'the revoked device stored no frame');
select results_eq(
  format($$select idempotency_key from telemetry.ingest_requests where device_id in (%L, %L) order by 1$$,
         :'good', :'gone'),
  $$values ('k1'::text), ('k4')$$,
  'only the stored requests claimed their idempotency key: a refused one can be retried');
select is(:'answer'::jsonb -> 'batch',
  jsonb_build_object('pending_records', 7, 'batch_size', 500, 'batch_full', false),
  'the answer carries the batch status after the group');

select * from finish();
rollback;
