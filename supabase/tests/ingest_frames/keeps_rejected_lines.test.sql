-- The rejected lines of each stored request land in telemetry_rejects with their line number,
-- raw text (cut at 4096 characters, its full length kept) and reason; a request whose every line
-- was rejected stores its rejects and no staging row.
begin;
set local search_path = extensions, public;
select plan(4);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('rita@example.com')) as drone \gset
select key_hash as drone_hash from telemetry.devices where id = :'drone' \gset

select telemetry_tests.authenticate_as_service_role();
select public.ingest_frames(concat_ws(e'\n\x1e',
  telemetry_tests.request_lines(:'drone', :'drone_hash', 'r1', telemetry_tests.frames(2, '2026-05-01 00:00:00+00'),
    jsonb_build_array(
      jsonb_build_object('line_number', 3, 'raw_text', 'roll:999', 'reason', 'roll_degrees out of range'),
      jsonb_build_object('line_number', 4, 'raw_text', repeat('z', 5000), 'reason', 'line too long'))),
  telemetry_tests.request_lines(:'drone', :'drone_hash', 'r2', '[]',
    '[{"line_number": 1, "raw_text": "garbage", "reason": "not a frame"}]')
))::jsonb as answer \gset

select results_eq(
  format($$select line_number, left(raw_text, 10), char_length(raw_text), raw_length, reason
           from telemetry.telemetry_rejects where device_id = %L order by id$$, :'drone'),
  $$values (3, 'roll:999'::text, 8, 8, 'roll_degrees out of range'::text),
           (4, 'zzzzzzzzzz', 4096, 5000, 'line too long'),
           (1, 'garbage', 7, 7, 'not a frame')$$,
  'every rejected line is kept with its line number, raw text, length and reason');
select is(:'answer'::jsonb -> 'outcomes' -> 1, '{"ok": true, "replayed": false, "accepted": 0, "pending_records": 2, "batch_size": 500, "batch_full": false}'::jsonb,
  'a request whose every line was rejected is stored with nothing accepted');
select is((select count(*)::integer from telemetry.telemetry_staging where device_id = :'drone'), 1,
  'and stages no row, while the other request stages its frames');
select is((select count(*)::integer from public.telemetry_rejects where device_id = :'drone'), 3,
  'the rejects are readable through public.telemetry_rejects');

select * from finish();
rollback;
