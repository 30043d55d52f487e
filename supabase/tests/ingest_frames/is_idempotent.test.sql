-- A repeated idempotency key, in a later call or later in the same body, stores nothing (no
-- frame, no reject) and replays the first request's summary and accepted count.
begin;
set local search_path = extensions, public;
select plan(8);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('gus@example.com')) as drone \gset
select key_hash as drone_hash from telemetry.devices where id = :'drone' \gset

select telemetry_tests.authenticate_as_service_role();
-- The same key twice in one body: the first stores, the second replays it.
select public.ingest_frames(concat_ws(e'\n\x1e',
  telemetry_tests.request_lines(:'drone', :'drone_hash', 'same-body',
    telemetry_tests.frames(3, '2026-05-01 00:00:00+00'),
    '[{"line_number": 4, "raw_text": "roll:999", "reason": "out of range"}]', '{"accepted": 3, "rejected": 1}'),
  telemetry_tests.request_lines(:'drone', :'drone_hash', 'same-body',
    telemetry_tests.frames(5, '2026-05-02 00:00:00+00'),
    '[{"line_number": 6, "raw_text": "x", "reason": "bad"}]', '{"accepted": 5, "rejected": 1}')
))::jsonb as answer \gset
select is(:'answer'::jsonb -> 'outcomes' -> 0, '{"ok": true, "replayed": false, "accepted": 3, "pending_records": 3, "batch_size": 500, "batch_full": false}'::jsonb,
  'the first request with a key is stored');
select is(:'answer'::jsonb -> 'outcomes' -> 1,
  '{"ok": true, "replayed": true, "accepted": 3, "pending_records": 3, "batch_size": 500, "batch_full": false, "summary": {"accepted": 3, "rejected": 1}}'::jsonb,
  'a repeat of the key later in the same body replays the first summary and accepted count');

-- The same key in a later call, with other frames and another summary.
select public.ingest_frames(
  telemetry_tests.request_lines(:'drone', :'drone_hash', 'same-body',
    telemetry_tests.frames(7, '2026-05-03 00:00:00+00'),
    '[{"line_number": 8, "raw_text": "y", "reason": "bad"}]', '{"accepted": 7, "rejected": 1}')
)::jsonb as retry \gset
select is(:'retry'::jsonb -> 'outcomes' -> 0,
  '{"ok": true, "replayed": true, "accepted": 3, "pending_records": 3, "batch_size": 500, "batch_full": false, "summary": {"accepted": 3, "rejected": 1}}'::jsonb,
  'a retry in a later call replays the first summary and accepted count');

select is((select count(*)::integer from public.telemetry_frames where device_id = :'drone'), 3,
  'only the first request''s frames were stored');
select is((select count(*)::integer from telemetry.telemetry_staging where device_id = :'drone'), 1,
  'as one staging row');
select is((select count(*)::integer from telemetry.telemetry_rejects where device_id = :'drone'), 1,
  'only the first request''s rejected line was kept');
select results_eq(
  format($$select accepted, summary from telemetry.ingest_requests where device_id = %L$$, :'drone'),
  $$values (3, '{"accepted": 3, "rejected": 1}'::text)$$,
  'the idempotency record keeps the first accepted count and summary');

select public.flush_telemetry();
select is(
  public.ingest_frames(
    telemetry_tests.request_lines(:'drone', :'drone_hash', 'same-body', telemetry_tests.frames(1, '2026-05-04 00:00:00+00'))
  )::jsonb -> 'outcomes' -> 0 ->> 'replayed',
  'true',
  'the key is still replayed after the first request''s frames were flushed');

select * from finish();
rollback;
