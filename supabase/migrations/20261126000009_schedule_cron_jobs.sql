-- pg_cron jobs of the pipeline: the flush, the daily partition maintenance and the daily pruning
-- of the job and flush logs. cron.schedule(name, ...) replaces a job of the same name, so this
-- migration can be re-applied safely.

/*
 * telemetry.prune_history(): the daily cleanup: cron.job_run_details and flush_runs older than
 * 7 days (the flush alone logs up to 8640 runs a day), rejects older than the telemetry
 * retention, idempotency records older than a day (a device retries within minutes, not days).
 * Returns {job_run_details_deleted, flush_runs_deleted, rejects_deleted,
 * ingest_requests_deleted}.
 */
create function telemetry.prune_history(p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_job_runs bigint := 0;
  v_flush_runs bigint;
  v_rejects bigint;
  v_ingest_requests bigint;
  v_retention_months integer;
begin
  select s.retention_months into strict v_retention_months from telemetry.settings as s where s.id;

  -- cron.job_run_details exists from pg_cron 1.4 on.
  if to_regclass('cron.job_run_details') is not null then
    execute 'delete from cron.job_run_details where end_time < $1' using p_now - interval '7 days';
    get diagnostics v_job_runs = row_count;
  end if;

  delete from telemetry.flush_runs as r where r.started_at < p_now - interval '7 days';
  get diagnostics v_flush_runs = row_count;

  delete from telemetry.telemetry_rejects as r
  where r.received_at < date_trunc('month', p_now, 'UTC') - make_interval(months => v_retention_months);
  get diagnostics v_rejects = row_count;

  delete from telemetry.ingest_requests as r where r.created_at < p_now - interval '1 day';
  get diagnostics v_ingest_requests = row_count;

  return jsonb_build_object(
    'job_run_details_deleted', v_job_runs,
    'flush_runs_deleted', v_flush_runs,
    'rejects_deleted', v_rejects,
    'ingest_requests_deleted', v_ingest_requests
  );
end;
$$;
comment on function telemetry.prune_history(timestamptz) is
  'Daily: prunes cron.job_run_details and flush_runs (7 days), rejects (retention) and idempotency records (1 day). Run by pg_cron.';

/*
 * telemetry.flush_schedule(): the flush schedule the installed pg_cron supports. pg_cron 1.5
 * added interval schedules ('10 seconds'); Debian's 1.4 only takes cron syntax, where a minute
 * is the finest step. The version is read from pg_extension, never assumed.
 */
create function telemetry.flush_schedule()
returns text
language sql
stable
set search_path = ''
as $$
  select case
    when string_to_array(split_part(e.extversion, '-', 1), '.')::integer[] >= array[1, 5] then '10 seconds'
    else '* * * * *'
  end
  from pg_catalog.pg_extension as e
  where e.extname = 'pg_cron'
$$;
comment on function telemetry.flush_schedule() is
  'Flush schedule: ''10 seconds'' where pg_cron >= 1.5 supports it, else every minute.';

-- Supabase enables pg_cron from the dashboard or with this statement (its documented form); on
-- the local stack the bootstrap has already created it, and this is a no-op.
create extension if not exists pg_cron with schema pg_catalog;

do $$
begin
  -- pg_cron's jobs live in, and can only be scheduled from, the database named by
  -- cron.database_name ('postgres' on Supabase and on the local stack).
  if current_database() <> coalesce(current_setting('cron.database_name', true), 'postgres') then
    raise warning 'pg_cron runs in database %, not %: telemetry jobs not scheduled',
      current_setting('cron.database_name', true), current_database();
    return;
  end if;

  perform cron.schedule('telemetry-flush', telemetry.flush_schedule(),
    $job$select telemetry.run_flush(null, 'schedule')$job$);
  perform cron.schedule('telemetry-partition-maintenance', '17 3 * * *',
    $job$select telemetry.maintain_partitions()$job$);
  perform cron.schedule('telemetry-prune-history', '47 3 * * *',
    $job$select telemetry.prune_history()$job$);
end;
$$;
