-- The flush records the highest staging id it moved, and the staged counts start above it
-- (scans of staging's primary key skip the deleted requests below it). The flush itself still
-- picks from the lowest id: a request below the watermark (one that committed late) is moved.
begin;
set local search_path = extensions, public;
select plan(5);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('wanda@example.com')) as drone \gset

insert into telemetry.telemetry_staging (device_id, frame_count, frames)
select :'drone', 1,
       telemetry_tests.frame_values_literal(
         jsonb_build_array(jsonb_build_object('recorded_at', '2026-05-02 00:00:00+00'::timestamptz + g * interval '1 second')))
from generate_series(1, 3) as g;
select max(id) as last_id from telemetry.telemetry_staging \gset

select telemetry_tests.authenticate_as_service_role();
select is((public.flush_telemetry() ->> 'rows_moved')::integer, 3, 'the flush moves 3 frames');
select telemetry_tests.reset_role();
select is((select w.moved_through from telemetry.staging_watermark as w), :'last_id'::bigint,
  'the watermark is the highest staging id it moved');

insert into telemetry.telemetry_staging (device_id, frame_count, frames)
select :'drone', 2,
       telemetry_tests.frame_values_literal(jsonb_build_array(
         jsonb_build_object('recorded_at', '2026-05-02 01:00:00+00'::timestamptz),
         jsonb_build_object('recorded_at', '2026-05-02 01:00:01+00'::timestamptz)));
select is(telemetry.staged_count(null), 2::bigint, 'a request staged after the flush is counted');

-- A request below the watermark, as one that took its id before the flush and committed after.
insert into telemetry.telemetry_staging (id, device_id, frame_count, frames)
overriding system value
values (:'last_id'::bigint - 1, :'drone', 1, telemetry_tests.frame_values_literal(jsonb_build_array(
  jsonb_build_object('recorded_at', '2026-05-02 02:00:00+00'::timestamptz))));
select is(telemetry.staged_count(null), 2::bigint, 'it is not counted');

select telemetry_tests.authenticate_as_service_role();
select is((public.flush_telemetry() ->> 'rows_moved')::integer, 3,
  'but the next flush moves it with the rest');

select * from finish();
rollback;
