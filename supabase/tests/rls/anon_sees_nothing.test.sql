-- anon (the public anon key) can read no view or table and call no telemetry function; the only
-- thing it may call is get_settings (configuration, no tenant data).
begin;
set local search_path = extensions, public;
select plan(13);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('carol@example.com')) as drone \gset
select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3));

select telemetry_tests.authenticate_as_anon();
select throws_ok('select * from public.telemetry_frames', '42501', null, 'anon cannot read telemetry_frames');
select throws_ok('select * from public.devices', '42501', null, 'anon cannot read devices');
select throws_ok('select * from public.telemetry_rejects', '42501', null, 'anon cannot read rejects');
select throws_ok('select * from public.telemetry_hourly_rollups', '42501', null, 'anon cannot read hourly rollups');
select throws_ok('select * from public.telemetry_daily_rollups', '42501', null, 'anon cannot read daily rollups');
select throws_ok('select * from telemetry.telemetry', '42501', null, 'anon cannot reach the telemetry schema');
select throws_ok('select * from telemetry.telemetry_staging', '42501', null, 'anon cannot reach staging');
select throws_ok(format('select public.ingest_telemetry(%L, %L)', :'drone', '[]'), '42501', null,
  'anon cannot call ingest_telemetry');
select throws_ok('select public.get_batch_status()', '42501', null, 'anon cannot call get_batch_status');
select throws_ok('select * from public.create_device(''x'')', '42501', null, 'anon cannot call create_device');
select throws_ok('select * from public.authenticate_device(''00'')', '42501', null,
  'anon cannot call authenticate_device');
select throws_ok('select public.get_performance_metrics()', '42501', null, 'anon cannot call monitoring functions');
select lives_ok('select public.get_settings()', 'anon may read the settings (no tenant data)');

select * from finish();
rollback;
