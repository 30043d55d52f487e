-- A staged request whose frames telemetry refuses (here a flight_mode over its 32 characters)
-- does not stop the flush: it is set aside whole into telemetry_rejects with the database's
-- reason and its frames' text, counted as set_aside, and the other requests are flushed.
begin;
set local search_path = extensions, public;
select plan(7);
select telemetry_tests.hold_flush_lock();
-- The set-aside raises a WARNING by design; keep the TAP output clean.
set local client_min_messages = error;

select telemetry_tests.create_device(telemetry_tests.create_user('sam@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-08-01 00:00:00+00'));
select public.ingest_telemetry(:'drone', jsonb_build_array(
  jsonb_build_object('recorded_at', '2026-08-02 00:00:00+00', 'flight_mode', repeat('X', 40)),
  jsonb_build_object('recorded_at', '2026-08-02 00:00:01+00', 'flight_mode', 'LOITER')));
select frames as refused_frames from telemetry.telemetry_staging where device_id = :'drone' order by id offset 1 limit 1 \gset
select public.ingest_telemetry(:'drone', telemetry_tests.frames(2, '2026-08-03 00:00:00+00'));

select public.flush_telemetry() as flush \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 5, 'the requests before and after the refused one are flushed');
select is((:'flush'::jsonb ->> 'set_aside')::integer, 2, 'the refused request''s 2 frames are counted as set aside');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone'), 5,
  'telemetry holds the 5 frames of the good requests');
select is((select count(*)::integer from telemetry.telemetry where device_id = :'drone' and recorded_at >= '2026-08-02' and recorded_at < '2026-08-03'), 0,
  'and no frame of the refused request, not even its valid one');
select is((select count(*)::integer from telemetry.telemetry_staging where device_id = :'drone'), 0,
  'nothing is left in staging to block the next flush');
select results_eq(
  format($$select raw_text, raw_length, reason like 'the flush refused these 2 frames: %%'
           from telemetry.telemetry_rejects where device_id = %L$$, :'drone'),
  format($$values (%L::text, %s, true)$$, :'refused_frames', char_length(:'refused_frames')),
  'the refused request is kept in telemetry_rejects with its frames'' text and the reason');
select ok((select reason from telemetry.telemetry_rejects where device_id = :'drone') like '%flight_mode%',
  'the reason names the constraint the frames broke');

select * from finish();
rollback;
