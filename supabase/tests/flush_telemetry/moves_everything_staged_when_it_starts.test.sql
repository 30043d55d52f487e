-- A flush without p_max_rows moves every frame staged when it starts, however many requests
-- hold them (more than the 1000 requests telemetry.staged_count looks at).
begin;
set local search_path = extensions, public;
select plan(2);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('otto@example.com')) as drone \gset

-- 1500 requests of one frame each.
insert into telemetry.telemetry_staging (device_id, frame_count, frames)
select :'drone', 1,
       telemetry_tests.frame_values_literal(
         jsonb_build_array(jsonb_build_object('recorded_at', '2026-05-01 00:00:00+00'::timestamptz + g * interval '1 second')))
from generate_series(1, 1500) as g;

select telemetry_tests.authenticate_as_service_role();
select is((public.flush_telemetry() ->> 'rows_moved')::integer, 1500,
  'one flush moves the frames of all 1500 staged requests');
select is((select count(*)::integer from telemetry.telemetry_staging where device_id = :'drone'), 0,
  'and leaves none of them in staging');

select * from finish();
rollback;
