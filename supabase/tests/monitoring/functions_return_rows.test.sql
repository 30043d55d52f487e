-- The monitoring functions return data for service_role.
begin;
set local search_path = extensions, public;
select plan(7);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('vera@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
-- Two requests; the flush moves the first (2 frames, whole) and leaves the second (3) staged.
select public.ingest_telemetry(:'drone', telemetry_tests.frames(2, now() - interval '20 seconds', '1 second'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, now() - interval '10 seconds', '1 second'));
select public.flush_telemetry(2);

select isnt_empty('select * from public.get_index_usage_stats()', 'get_index_usage_stats returns rows');
select isnt_empty(
  $$select * from public.get_index_usage_stats() where parent_index_name = 'idx_telemetry_by_device_id_and_recorded_at'$$,
  'including the partitions of the dedup index');
select isnt_empty('select * from public.get_table_stats()', 'get_table_stats returns rows');
select isnt_empty('select * from public.get_slow_queries(0)', 'get_slow_queries returns rows from pg_stat_statements');
select is(
  (select array_agg(k order by k) from jsonb_object_keys(public.get_performance_metrics()) as k),
  array['active_devices_last_5_minutes', 'active_flights_last_5_minutes', 'database_size', 'database_size_bytes',
        'frames_last_minute', 'last_flush', 'measured_at', 'oldest_pending_age_seconds', 'staging_backlog'],
  'get_performance_metrics returns every metric');
select results_eq(
  $$select (m ->> 'frames_last_minute')::integer >= 5, (m ->> 'active_devices_last_5_minutes')::integer >= 1,
           (m ->> 'active_flights_last_5_minutes')::integer >= 1, (m ->> 'staging_backlog')::integer >= 3,
           (m ->> 'database_size_bytes')::bigint > 0, m -> 'last_flush' is not null
    from public.get_performance_metrics() as m$$,
  $$values (true, true, true, true, true, true)$$,
  'the metrics count the frames just ingested, staged or flushed');
select cmp_ok((public.get_performance_metrics() ->> 'oldest_pending_age_seconds')::numeric, '>=', 0::numeric,
  'the age of the oldest staged frame is reported');

select * from finish();
rollback;
