-- Two owners never see each other's devices, frames (flushed or staged), rejects or rollups.
begin;
set local search_path = extensions, public;
select plan(14);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('alice@example.com') as alice \gset
select telemetry_tests.create_user('bob@example.com') as bob \gset
select telemetry_tests.create_device(:'alice', 'alice drone') as alice_drone \gset
select telemetry_tests.create_device(:'bob', 'bob drone') as bob_drone \gset

select telemetry_tests.authenticate_as_service_role();
-- Both owners get flushed frames (with rollups) and staged frames, and a reject.
select public.ingest_telemetry(:'alice_drone', telemetry_tests.frames(4, '2026-01-05 10:00:00+00'));
select public.ingest_telemetry(:'bob_drone', telemetry_tests.frames(6, '2026-01-05 10:00:00+00'));
select public.flush_telemetry();
select public.ingest_telemetry(:'alice_drone', telemetry_tests.frames(2, '2026-01-06 10:00:00+00'));
select public.ingest_telemetry(:'bob_drone', telemetry_tests.frames(3, '2026-01-06 10:00:00+00'));
select public.record_telemetry_rejects(:'alice_drone', '[{"line_number": 1, "raw_text": "??", "reason": "bad"}]');
select public.record_telemetry_rejects(:'bob_drone', '[{"line_number": 2, "raw_text": "!!", "reason": "bad"}]');

select telemetry_tests.authenticate_as(:'alice');
select results_eq(
  $$select distinct device_id from telemetry.frames$$,
  format('values (%L::uuid)', :'alice_drone'),
  'alice sees frames of her device only');
select is((select count(*)::integer from telemetry.frames), 6,
  'alice sees her flushed and staged frames');
select results_eq($$select id from public.devices$$, format('values (%L::uuid)', :'alice_drone'),
  'alice sees her device only');
select results_eq($$select device_id from public.telemetry_rejects$$, format('values (%L::uuid)', :'alice_drone'),
  'alice sees her rejects only');
select results_eq($$select distinct device_id from public.telemetry_hourly_rollups$$,
  format('values (%L::uuid)', :'alice_drone'), 'alice sees her hourly rollups only');
select results_eq($$select distinct device_id from public.telemetry_daily_rollups$$,
  format('values (%L::uuid)', :'alice_drone'), 'alice sees her daily rollups only');
select is_empty(
  format('select 1 from telemetry.telemetry_staging where device_id = %L', :'bob_drone'),
  'alice cannot read bob''s staged frames even in the table');
select is_empty(
  format('select 1 from telemetry.telemetry where device_id = %L', :'bob_drone'),
  'alice cannot read bob''s frames even in the table');

select telemetry_tests.authenticate_as(:'bob');
select is((select count(*)::integer from telemetry.frames), 9, 'bob sees his 9 frames');
select results_eq($$select distinct device_id from telemetry.frames$$,
  format('values (%L::uuid)', :'bob_drone'), 'bob sees frames of his device only');
select results_eq($$select id from public.devices$$, format('values (%L::uuid)', :'bob_drone'),
  'bob sees his device only');
select results_eq($$select device_id from public.telemetry_rejects$$, format('values (%L::uuid)', :'bob_drone'),
  'bob sees his rejects only');

select telemetry_tests.reset_role();
select telemetry_tests.create_user('nobody@example.com') as nobody \gset
select telemetry_tests.authenticate_as(:'nobody');
select is_empty('select 1 from telemetry.frames', 'a user without devices sees no frames');

select telemetry_tests.authenticate_as_service_role();
select is(
  (select count(*)::integer from telemetry.frames where device_id in (:'alice_drone', :'bob_drone')),
  15,
  'service_role sees every frame');

select * from finish();
rollback;
