-- A poison request among many (staged by a device that bypassed an older parser: roll_degrees
-- 1e-50, which the cast to real refuses) is found by bisecting the failing chunk: it is set aside
-- after O(log n) move statements, never one request at a time, and every other request is
-- flushed in staging order. The move statements are counted independently of the flush's own
-- report: a statement trigger on telemetry_staging draws from a sequence, which a rolled-back
-- attempt does not give back.
begin;
set local search_path = extensions, public;
select plan(10);
select telemetry_tests.hold_flush_lock();
-- The set-aside raises a WARNING by design; keep the TAP output clean.
set local client_min_messages = error;

create sequence telemetry_tests.staging_deletes;
create function telemetry_tests.count_staging_delete()
returns trigger
language plpgsql
as $$
begin
  perform nextval('telemetry_tests.staging_deletes');
  return null;
end;
$$;
create trigger count_staging_deletes
  before delete on telemetry.telemetry_staging
  for each statement execute function telemetry_tests.count_staging_delete();

select telemetry_tests.create_device(telemetry_tests.create_user('poison-a@example.com')) as drone_a \gset
select telemetry_tests.create_device(telemetry_tests.create_user('poison-b@example.com')) as drone_b \gset

-- 512 requests of 4 frames, the two devices taking turns; request 301 carries the poison.
insert into telemetry.telemetry_staging (device_id, frame_count, frames)
select case when r % 2 = 0 then :'drone_a'::uuid else :'drone_b'::uuid end, 4,
       case when r = 301
         then replace(telemetry_tests.frame_values_literal(
                telemetry_tests.frames(4, '2026-08-01 00:00:00+00'::timestamptz + r * interval '1 minute')),
                ',101,', ',1e-50,')
         else telemetry_tests.frame_values_literal(
                telemetry_tests.frames(4, '2026-08-01 00:00:00+00'::timestamptz + r * interval '1 minute'))
       end
from generate_series(1, 512) as r
order by r;
select ok((select frames from telemetry.telemetry_staging order by id offset 300 limit 1) like '%1e-50%',
  'request 301 holds the poison value');

select setval('telemetry_tests.staging_deletes', 1, false);
select public.flush_telemetry() as flush \gset
select currval('telemetry_tests.staging_deletes') as deletes \gset

select is((:'flush'::jsonb ->> 'rows_moved')::integer, 511 * 4, 'every other request is flushed');
select is((:'flush'::jsonb ->> 'set_aside')::integer, 4, 'the poison request''s 4 frames are set aside');
select is((select count(*)::integer from telemetry.telemetry_staging), 0, 'staging is empty');
select is((select count(*)::integer from telemetry.telemetry_rejects
           where reason like 'the flush refused these 4 frames: %out of range for type real%'), 1,
  'the poison request is kept in telemetry_rejects with the database''s reason');
-- One move of the whole chunk, then at most two per halving down to one request, then the
-- set-aside: 2 * ceil(log2(512)) + 2 = 20 statements deleting from staging. One request at a
-- time would take about 300.
select cmp_ok(:deletes::integer, '<=', 20,
  format('the poison request is found in %s statements, at most 2 * log2(512) + 2', :deletes));
select is((:'flush'::jsonb ->> 'attempts')::integer + 1, :deletes::integer,
  'the flush reports its move attempts (every statement but the set-aside)');

-- Two poison requests far apart: each costs its own O(log n) search.
insert into telemetry.telemetry_staging (device_id, frame_count, frames)
select :'drone_a'::uuid, 1,
       case when r in (17, 450)
         then replace(telemetry_tests.frame_values_literal(
                telemetry_tests.frames(1, '2026-09-01 00:00:00+00'::timestamptz + r * interval '1 minute')),
                ',101,', ',-1e-46,')
         else telemetry_tests.frame_values_literal(
                telemetry_tests.frames(1, '2026-09-01 00:00:00+00'::timestamptz + r * interval '1 minute'))
       end
from generate_series(1, 512) as r
order by r;
select setval('telemetry_tests.staging_deletes', 1, false);
select public.flush_telemetry() as flush \gset
select currval('telemetry_tests.staging_deletes') as deletes \gset
select is((:'flush'::jsonb ->> 'rows_moved')::integer, 510, 'the 510 good requests are flushed');
select is((:'flush'::jsonb ->> 'set_aside')::integer, 2, 'both poison requests are set aside');
select cmp_ok(:deletes::integer, '<=', 2 * 20,
  format('two poison requests cost %s statements, at most twice the bound of one', :deletes));

select * from finish();
rollback;
