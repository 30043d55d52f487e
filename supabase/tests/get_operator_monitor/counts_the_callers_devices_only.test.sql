-- get_operator_monitor counts the caller's own devices only: a user without devices gets zeros,
-- nulls and empty lists while another tenant has flushed and staged frames; an owner gets their
-- own frames per minute, backlog and last frames; the function is for authenticated only.
begin;
set local search_path = extensions, public;
select plan(12);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('stranger@example.com') as stranger \gset
select telemetry_tests.create_user('owner@example.com') as owner \gset
select telemetry_tests.create_user('other@example.com') as other \gset
select telemetry_tests.create_device(:'owner', 'mine') as mine \gset
select telemetry_tests.create_device(:'other', 'theirs') as theirs \gset

select telemetry_tests.authenticate_as_service_role();
-- Frames recorded now: 3 flushed and 2 staged of the owner's; 40 flushed and 9 staged of the other.
select public.ingest_telemetry(:'mine', telemetry_tests.frames(3, now() - interval '10 seconds'));
select public.ingest_telemetry(:'theirs', telemetry_tests.frames(40, now() - interval '60 seconds'));
select public.flush_telemetry();
select public.ingest_telemetry(:'mine', telemetry_tests.frames(2, now() - interval '5 seconds'));
select public.ingest_telemetry(:'theirs', telemetry_tests.frames(9, now() - interval '15 seconds'));

select telemetry_tests.authenticate_as(:'stranger');
select public.get_operator_monitor() as m \gset
select is(
  (select sum((e ->> 'frames')::integer) from jsonb_array_elements(:'m'::jsonb -> 'frames_per_minute') as e)::integer,
  0, 'a stranger''s frames per minute are all zero');
select is(jsonb_array_length(:'m'::jsonb -> 'frames_per_minute'), 60, 'the last hour, per minute');
select is((:'m'::jsonb ->> 'staging_backlog')::integer + (:'m'::jsonb ->> 'active_devices')::integer
            + (:'m'::jsonb ->> 'active_flights')::integer, 0,
  'a stranger has no backlog, active device or flight');
select is(:'m'::jsonb -> 'devices', '[]'::jsonb, 'a stranger has no devices listed');
select is(:'m'::jsonb -> 'last_flushes', '[]'::jsonb, 'the flush log is not shown to users');
select is(:'m'::jsonb -> 'database_size_bytes', 'null'::jsonb, 'nor the database size');

select telemetry_tests.authenticate_as(:'owner');
select public.get_operator_monitor() as m \gset
select is(
  (select sum((e ->> 'frames')::integer) from jsonb_array_elements(:'m'::jsonb -> 'frames_per_minute') as e)::integer,
  5, 'an owner''s frames per minute count their flushed and staged frames only');
select is((:'m'::jsonb ->> 'staging_backlog')::integer, 2, 'an owner''s backlog is their staged frames');
select is((:'m'::jsonb ->> 'active_devices')::integer, 1, 'one active device: their own');
select is(
  (select array_agg(e ->> 'device_id') from jsonb_array_elements(:'m'::jsonb -> 'devices') as e),
  array[:'mine'::text], 'an owner''s devices list holds their device only');
select ok(:'m'::jsonb ->> 'last_frame_at' is not null, 'an owner gets their last frame''s time');

select telemetry_tests.reset_role();
select results_eq(
  $$select r.rolname::text collate "default", has_function_privilege(r.oid, 'public.get_operator_monitor()', 'execute')
    from pg_catalog.pg_roles as r where r.rolname in ('anon', 'authenticated', 'service_role') order by 1$$,
  $$values ('anon'::text, false), ('authenticated', true), ('service_role', false)$$,
  'get_operator_monitor is for authenticated only');

select * from finish();
rollback;
