-- A frame whose timestamp is outside every monthly partition (a device clock at 1970 or 2100)
-- is stored, in the default partition, and readable.
begin;
set local search_path = extensions, public;
select plan(5);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('hank@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
select is(
  public.ingest_telemetry(:'drone',
    '[{"recorded_at": "1970-01-01T00:00:00Z", "altitude_m": 1}, {"recorded_at": "2100-01-01T00:00:00Z", "altitude_m": 2}]')
    -> 'accepted',
  '2'::jsonb,
  'frames from 1970 and 2100 are accepted');
select is((public.flush_telemetry() ->> 'rows_moved')::integer, 2, 'and flushed');
select results_eq(
  format('select tableoid::regclass::text, recorded_at from telemetry.telemetry where device_id = %L order by 2', :'drone'),
  $$values ('telemetry.telemetry_default', '1970-01-01 00:00:00+00'::timestamptz),
           ('telemetry.telemetry_default', '2100-01-01 00:00:00+00'::timestamptz)$$,
  'they are stored in the default partition');
select is((select count(*)::integer from public.telemetry_frames where device_id = :'drone'), 2,
  'they are readable through telemetry_frames');
select is((select count(*)::integer from telemetry.telemetry_staging where device_id = :'drone'), 0,
  'nothing is left behind in staging');

select * from finish();
rollback;
