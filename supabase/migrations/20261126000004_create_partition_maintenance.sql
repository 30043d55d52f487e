-- Monthly partitions of telemetry.telemetry: created ahead of time, dropped past retention.
--
-- Why a small function of our own and not pg_partman: Debian's postgresql-15-partman is 4.7
-- (create_parent(p_type => 'native', p_interval => 'monthly'), run_maintenance in schema
-- partman) while Supabase ships pg_partman 5.x, whose API differs (p_type 'native' removed,
-- intervals as SQL intervals, template tables, different config columns). One migration cannot
-- call both the same way, so migrations would diverge between the local stack and a hosted
-- project. Monthly range partitions need about sixty lines of plpgsql, which behave identically
-- everywhere.
--
-- Partitions are named telemetry.telemetry_pYYYY_MM and cover [first of month, first of next
-- month) in UTC.

/*
 * telemetry.create_month_partition(p_month): makes sure the partition of the month containing
 * p_month exists; returns its name if it was created, null if it already existed.
 *
 * Creating a range partition fails if the DEFAULT partition already holds rows of that range.
 * So the partition is built as a standalone table, the month's rows are moved out of the default
 * partition into it in one statement, and only then is it attached: all in the caller's
 * transaction, so no row is ever lost or seen twice.
 */
create function telemetry.create_month_partition(p_month timestamptz)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_start timestamptz := date_trunc('month', p_month, 'UTC');
  v_end timestamptz := date_trunc('month', p_month, 'UTC') + interval '1 month';
  v_name text := 'telemetry_p' || to_char(p_month at time zone 'UTC', 'YYYY_MM');
begin
  if to_regclass(format('telemetry.%I', v_name)) is not null then
    return null;
  end if;

  execute format(
    'create table telemetry.%I (like telemetry.telemetry including defaults including constraints)',
    v_name);
  -- Lets the attach below skip its validation scan of the new table.
  execute format(
    'alter table telemetry.%I add constraint recorded_at_is_in_month check (recorded_at >= %L and recorded_at < %L)',
    v_name, v_start, v_end);
  execute format(
    'with moved as (
       delete from telemetry.telemetry_default
       where recorded_at >= %L and recorded_at < %L
       returning *
     )
     insert into telemetry.%I select * from moved',
    v_start, v_end, v_name);
  execute format(
    'alter table telemetry.telemetry attach partition telemetry.%I for values from (%L) to (%L)',
    v_name, v_start, v_end);
  execute format('alter table telemetry.%I drop constraint recorded_at_is_in_month', v_name);
  execute format('alter table telemetry.%I enable row level security', v_name);
  return v_name;
end;
$$;
comment on function telemetry.create_month_partition(timestamptz) is
  'Creates the monthly partition containing p_month, moving its rows out of the default partition.';

/*
 * telemetry.maintain_partitions(p_now): the daily maintenance run by pg_cron.
 * - creates the partitions of the last 3 months, this month and settings.months_ahead months;
 * - drops every monthly partition that ended before the retention cutoff
 *   (first of this month minus settings.retention_months);
 * - deletes rows older than the cutoff from the default partition (a device clock in 1970 stays
 *   there until then, and then follows the same retention as every other frame).
 * Returns {created: [names], dropped: [names], default_rows_deleted, retention_cutoff}.
 * p_now exists for tests; the job passes nothing.
 */
create function telemetry.maintain_partitions(p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
-- Creating and dropping partitions needs an ACCESS EXCLUSIVE lock on telemetry for a moment;
-- give up rather than queue behind a long query (the next daily run retries, and partitions
-- exist months ahead).
set lock_timeout = '10s'
as $$
declare
  v_settings telemetry.settings;
  v_this_month timestamptz := date_trunc('month', p_now, 'UTC');
  v_cutoff timestamptz;
  v_created text[] := '{}';
  v_dropped text[] := '{}';
  v_name text;
  v_month timestamptz;
  v_deleted bigint;
begin
  select * into strict v_settings from telemetry.settings where id;
  v_cutoff := v_this_month - make_interval(months => v_settings.retention_months);

  -- CREATE: from 3 months back (bounded by retention) to months_ahead ahead
  for v_month in
    select generate_series(
      greatest(v_this_month - interval '3 months', v_cutoff),
      v_this_month + make_interval(months => v_settings.months_ahead),
      interval '1 month')
  loop
    v_name := telemetry.create_month_partition(v_month);
    if v_name is not null then
      v_created := v_created || v_name;
    end if;
  end loop;

  -- RETENTION: partitions whose whole month lies before the cutoff
  for v_name in
    select c.relname
    from pg_catalog.pg_inherits as i
    join pg_catalog.pg_class as c on c.oid = i.inhrelid
    where i.inhparent = 'telemetry.telemetry'::regclass
      and c.relname ~ '^telemetry_p[0-9]{4}_[0-9]{2}$'
      and make_timestamptz(substr(c.relname, 12, 4)::integer, substr(c.relname, 17, 2)::integer, 1, 0, 0, 0, 'UTC')
          < v_cutoff
    order by c.relname
  loop
    execute format('drop table telemetry.%I', v_name);
    v_dropped := v_dropped || v_name;
  end loop;

  delete from telemetry.telemetry_default where recorded_at < v_cutoff;
  get diagnostics v_deleted = row_count;

  return jsonb_build_object(
    'created', to_jsonb(v_created),
    'dropped', to_jsonb(v_dropped),
    'default_rows_deleted', v_deleted,
    'retention_cutoff', v_cutoff
  );
end;
$$;
comment on function telemetry.maintain_partitions(timestamptz) is
  'Daily: creates monthly partitions ahead, drops those past retention. Run by pg_cron.';

-- The partitions of the last three months, this month and the months ahead exist from the start.
select telemetry.maintain_partitions();
