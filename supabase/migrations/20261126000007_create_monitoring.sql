-- Monitoring RPCs for operators with the service role: index usage, slow queries
-- (pg_stat_statements), table statistics, and a performance summary of the pipeline.
-- None of them is executable by anon or authenticated: they describe the whole database.

/*
 * public.get_index_usage_stats(): every index of the telemetry schema that has storage (the
 * indexes of each partition), with how often it was scanned and its size, and the partitioned
 * index of telemetry it belongs to (null for a plain table's index). An index never scanned is a
 * candidate to drop.
 */
create function public.get_index_usage_stats()
returns table (
  schema_name text,
  table_name text,
  index_name text,
  parent_index_name text,
  index_scans bigint,
  tuples_read bigint,
  tuples_fetched bigint,
  index_size_bytes bigint,
  index_size text
)
language sql
stable
set search_path = ''
as $$
  select s.schemaname::text,
         s.relname::text,
         s.indexrelname::text,
         p.relname::text,
         s.idx_scan,
         s.idx_tup_read,
         s.idx_tup_fetch,
         pg_catalog.pg_relation_size(s.indexrelid),
         pg_catalog.pg_size_pretty(pg_catalog.pg_relation_size(s.indexrelid))
  from pg_catalog.pg_stat_user_indexes as s
  left join pg_catalog.pg_inherits as h on h.inhrelid = s.indexrelid
  left join pg_catalog.pg_class as p on p.oid = h.inhparent
  where s.schemaname = 'telemetry'
  order by s.relname, s.indexrelname
$$;
comment on function public.get_index_usage_stats() is 'Scans and size of every telemetry index. service_role only.';
grant execute on function public.get_index_usage_stats() to service_role;

/*
 * public.get_slow_queries(min_duration_ms): statements whose mean execution time is at least
 * min_duration_ms, slowest first (at most 50), from pg_stat_statements.
 *
 * security definer: pg_stat_statements shows the text of other roles' statements only to
 * members of pg_read_all_stats, which service_role is not; the owner (postgres) is.
 */
create function public.get_slow_queries(min_duration_ms double precision default 100)
returns table (
  query_id bigint,
  query text,
  calls bigint,
  total_exec_time_ms double precision,
  mean_exec_time_ms double precision,
  max_exec_time_ms double precision,
  rows bigint
)
language sql
stable
security definer
set search_path = ''
as $$
  select s.queryid, s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.max_exec_time, s.rows
  from extensions.pg_stat_statements as s
  where s.mean_exec_time >= coalesce(min_duration_ms, 0)
  order by s.mean_exec_time desc
  limit 50
$$;
comment on function public.get_slow_queries(double precision) is
  'Statements slower on average than min_duration_ms (pg_stat_statements). service_role only.';
grant execute on function public.get_slow_queries(double precision) to service_role;

/*
 * public.get_table_stats(): rows, dead rows, size, scans and vacuum times of every table of the
 * telemetry schema (partitions included).
 */
create function public.get_table_stats()
returns table (
  schema_name text,
  table_name text,
  live_rows bigint,
  dead_rows bigint,
  total_size_bytes bigint,
  total_size text,
  seq_scans bigint,
  index_scans bigint,
  rows_inserted bigint,
  rows_updated bigint,
  rows_deleted bigint,
  last_autovacuum timestamptz,
  last_autoanalyze timestamptz
)
language sql
stable
set search_path = ''
as $$
  select s.schemaname::text,
         s.relname::text,
         s.n_live_tup,
         s.n_dead_tup,
         pg_catalog.pg_total_relation_size(s.relid),
         pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(s.relid)),
         s.seq_scan,
         s.idx_scan,
         s.n_tup_ins,
         s.n_tup_upd,
         s.n_tup_del,
         s.last_autovacuum,
         s.last_autoanalyze
  from pg_catalog.pg_stat_user_tables as s
  where s.schemaname = 'telemetry'
  order by s.relname
$$;
comment on function public.get_table_stats() is 'Row counts, sizes and vacuum times of telemetry tables. service_role only.';
grant execute on function public.get_table_stats() to service_role;

/*
 * public.get_performance_metrics(): a snapshot of the pipeline:
 * {frames_last_minute, active_devices_last_5_minutes, active_flights_last_5_minutes,
 *  database_size_bytes, database_size, staging_backlog, oldest_pending_age_seconds,
 *  last_flush{...}|null, measured_at}.
 * Frames count by recorded_at over telemetry and staging; the recent-time filter prunes to the
 * current partitions and uses the BRIN index, so the cost does not grow with history.
 */
create function public.get_performance_metrics()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_frames bigint;
  v_devices bigint;
  v_flights bigint;
  v_oldest timestamptz;
begin
  with recent as (
    select t.device_id, t.flight_id, t.recorded_at
    from telemetry.telemetry as t
    where t.recorded_at >= v_now - interval '5 minutes' and t.recorded_at <= v_now + interval '1 minute'
    union all
    select s.device_id, s.flight_id, s.recorded_at
    from telemetry.telemetry_staging as s
    where s.recorded_at >= v_now - interval '5 minutes' and s.recorded_at <= v_now + interval '1 minute'
  )
  select count(*) filter (where r.recorded_at >= v_now - interval '1 minute'),
         count(distinct r.device_id),
         count(distinct (r.device_id, r.flight_id)) filter (where r.flight_id is not null)
  into v_frames, v_devices, v_flights
  from recent as r;

  select s.created_at into v_oldest from telemetry.telemetry_staging as s order by s.id limit 1;

  return jsonb_build_object(
    'frames_last_minute', v_frames,
    'active_devices_last_5_minutes', v_devices,
    'active_flights_last_5_minutes', v_flights,
    'database_size_bytes', pg_catalog.pg_database_size(pg_catalog.current_database()),
    'database_size', pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(pg_catalog.current_database())),
    'staging_backlog', telemetry.staged_count(null),
    'oldest_pending_age_seconds', round(extract(epoch from v_now - v_oldest)::numeric, 3),
    'last_flush', (
      select jsonb_build_object(
               'started_at', r.started_at, 'finished_at', r.finished_at, 'rows_moved', r.rows_moved,
               'duplicates_dropped', r.duplicates_dropped, 'duration_ms', r.duration_ms,
               'triggered_by', r.triggered_by)
      from telemetry.flush_runs as r
      order by r.id desc
      limit 1),
    'measured_at', v_now
  );
end;
$$;
comment on function public.get_performance_metrics() is
  'Frames per minute, active devices and flights, database size, staging backlog, last flush. service_role only.';
grant execute on function public.get_performance_metrics() to service_role;
