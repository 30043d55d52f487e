-- A signed-in user cannot ingest, flush, record rejects, authenticate keys, run maintenance or
-- read monitoring data, nor write staging directly; service_role can.
begin;
set local search_path = extensions, public;
select plan(20);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('dave@example.com') as dave \gset
select telemetry_tests.create_device(:'dave') as drone \gset

select telemetry_tests.authenticate_as(:'dave');
select throws_ok(format('select public.ingest_telemetry(%L, %L)', :'drone', telemetry_tests.frames(1)),
  '42501', null, 'authenticated cannot call ingest_telemetry');
select throws_ok($$select public.ingest_frames('')$$, '42501', null, 'authenticated cannot call ingest_frames');
select throws_ok('select public.flush_telemetry()', '42501', null, 'authenticated cannot call flush_telemetry');
select throws_ok('select public.flush_after_ingest()', '42501', null, 'authenticated cannot call flush_after_ingest');
select throws_ok('call telemetry.flush_for(1)', '42501', null, 'authenticated cannot call the flush_for procedure');
select throws_ok(format('select public.record_telemetry_rejects(%L, %L)', :'drone', '[]'),
  '42501', null, 'authenticated cannot call record_telemetry_rejects');
select throws_ok('select * from public.authenticate_device(''00'')', '42501', null,
  'authenticated cannot call authenticate_device');
select throws_ok('select telemetry.run_flush(null, ''api'')', '42501', null, 'authenticated cannot call run_flush');
select throws_ok('select * from telemetry.flush_chunk(10)', '42501', null, 'authenticated cannot call flush_chunk');
select throws_ok('select telemetry.maintain_partitions()', '42501', null,
  'authenticated cannot call maintain_partitions');
select throws_ok('select telemetry.prune_history()', '42501', null, 'authenticated cannot call prune_history');
select throws_ok('select * from public.get_index_usage_stats()', '42501', null,
  'authenticated cannot call get_index_usage_stats');
select throws_ok('select * from public.get_slow_queries(0)', '42501', null, 'authenticated cannot call get_slow_queries');
select throws_ok('select * from public.get_table_stats()', '42501', null, 'authenticated cannot call get_table_stats');
select throws_ok('select public.get_performance_metrics()', '42501', null,
  'authenticated cannot call get_performance_metrics');
select throws_ok(
  format($$insert into telemetry.telemetry_staging (device_id, frame_count, frames) values (%L, 1, '[{}]')$$, :'drone'),
  '42501', null, 'authenticated cannot write staging directly');
select throws_ok('update telemetry.settings set batch_size = 1', '42501', null, 'authenticated cannot change settings');

select telemetry_tests.authenticate_as_service_role();
select lives_ok(format('select public.ingest_telemetry(%L, %L)', :'drone', telemetry_tests.frames(1)),
  'service_role can call ingest_telemetry');
select lives_ok($$select public.ingest_frames('')$$, 'service_role can call ingest_frames');
select lives_ok('select public.flush_telemetry()', 'service_role can call flush_telemetry');

select * from finish();
rollback;
