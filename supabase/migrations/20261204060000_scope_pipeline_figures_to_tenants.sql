-- Figures that count frames are scoped like the frames (issue 16 §2): an operator's numbers cover
-- the operator's own devices; pipeline-wide numbers (every tenant's backlog, the flush history,
-- database sizes) are for service role only. get_batch_status counted every tenant's staged
-- frames for any authenticated caller, and the analytics monitor showed them the flush history.

/*
 * public.get_batch_status(): the state of the pipeline for the status and health endpoints:
 * {pending_records, batch_size, batch_full, oldest_pending_age_seconds,
 *  last_flush: {started_at, finished_at, rows_moved, duplicates_dropped, duration_ms} | null,
 *  flush_schedule, scope: 'pipeline' | 'devices'}.
 * service_role (and a direct database session without a JWT): the whole pipeline. authenticated: the staged frames of the caller's own devices
 * only (a caller without devices gets 0 and nulls); last_flush, whose rows_moved counts every
 * tenant's frames, is null for them; batch_size and flush_schedule are settings, not counts.
 *
 * security definer: the pipeline-wide figures count rows no API role can read under RLS (and
 * telemetry.flush_runs has no grant at all); the caller's scope is decided inside, from the
 * JWT's role and sub, never from an argument.
 */
create or replace function public.get_batch_status()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
set jit = off
as $$
declare
  -- The pipeline's scope: service_role, or a database session without any JWT (psql, pg_cron,
  -- the benchmark) that has not switched to an API role. Through PostgREST a user always has
  -- role authenticated from their JWT, which this function is executable by.
  v_pipeline boolean := telemetry.is_service_role()
    or (auth.role() is null
        and pg_catalog.current_setting('role') not in ('anon', 'authenticated'));
  v_owner uuid := auth.uid();
  v_batch_size integer;
  v_pending bigint;
  v_oldest timestamptz;
  v_last_flush jsonb;
  v_schedule text;
begin
  select s.batch_size into strict v_batch_size from telemetry.settings as s where s.id;

  if v_pipeline then
    v_pending := telemetry.staged_count(null);
    select s.created_at into v_oldest from telemetry.telemetry_staging as s order by s.id limit 1;
    select jsonb_build_object(
             'started_at', r.started_at, 'finished_at', r.finished_at, 'rows_moved', r.rows_moved,
             'duplicates_dropped', r.duplicates_dropped, 'duration_ms', r.duration_ms)
    into v_last_flush
    from telemetry.flush_runs as r
    order by r.id desc
    limit 1;
  else
    -- Staging holds seconds of requests and has no device index: a scan of what is staged.
    select coalesce(sum(s.frame_count), 0), min(s.created_at) into v_pending, v_oldest
    from telemetry.telemetry_staging as s
    where v_owner is not null
      and s.device_id in (select d.id from telemetry.devices as d where d.owner_id = v_owner);
  end if;

  -- pg_cron may be absent (a project without it); the schedule is then null.
  if to_regclass('cron.job') is not null then
    execute 'select j.schedule from cron.job as j where j.jobname = $1'
      into v_schedule using 'telemetry-flush';
  end if;

  return jsonb_build_object(
    'pending_records', v_pending,
    'batch_size', v_batch_size,
    'batch_full', v_pending >= v_batch_size,
    'oldest_pending_age_seconds',
      round(extract(epoch from clock_timestamp() - v_oldest)::numeric, 3),
    'last_flush', v_last_flush,
    'flush_schedule', v_schedule,
    'scope', case when v_pipeline then 'pipeline' else 'devices' end
  );
end;
$$;
comment on function public.get_batch_status() is
  'Batch status: the whole pipeline for service_role, the caller''s devices for authenticated.';
-- The grant to authenticated and service_role stays from the first definition.

/*
 * public.get_operator_monitor(): the analytics monitor for an operator, over the caller's own
 * devices only (RLS applies too: security invoker), in the keys of get_pipeline_monitor:
 * {frames_per_minute[{minute, frames}] (frames received from the caller's devices per minute over
 *    the last hour, flushed or staged, by receive time),
 *  active_devices, active_flights (their devices and flights with frames recorded in the last
 *    5 minutes), staging_backlog, oldest_pending_age_seconds (their staged frames),
 *  last_frame_at (their newest frame's receive time),
 *  devices[{device_id, name, last_frame_at, staged_frames}] (newest first, at most 100),
 *  last_flushes [] and database_size_bytes, database_size, cache_hit_rate null (pipeline-wide:
 *    service role, through get_pipeline_monitor), measured_at}.
 * A caller without devices gets zeros, nulls and empty lists.
 *
 * Cost: per device, index range scans of (device_id, created_at) over the last hour and of
 * (device_id, recorded_at) over the last 5 minutes, one backward probe per partition for the
 * newest frame, and a scan of staging (seconds of requests): bounded by the last hour's frames
 * of the caller's devices, never by history. Called by telemetry-analytics for authenticated.
 */
create function public.get_operator_monitor()
returns jsonb
language plpgsql
stable
set search_path = ''
set jit = off
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_owner uuid := auth.uid();
  v_devices uuid[];
  v_since timestamptz;
  v_result jsonb;
begin
  select coalesce(array_agg(d.id), '{}') into v_devices
  from telemetry.devices as d
  where d.owner_id = v_owner;
  v_since := date_trunc('minute', v_now) - interval '59 minutes';

  with staged as (
    select s.device_id, s.created_at, s.frame_count, s.frames
    from telemetry.telemetry_staging as s
    where s.device_id = any (v_devices)
  ),
  received as (
    select date_trunc('minute', t.created_at) as minute, count(*) as frames
    from unnest(v_devices) as d (id)
    cross join lateral (
      select f.created_at from telemetry.telemetry as f
      where f.device_id = d.id and f.created_at >= v_since) as t
    group by 1
    union all
    select date_trunc('minute', s.created_at), sum(s.frame_count)
    from staged as s
    where s.created_at >= v_since
    group by 1
  ),
  recent as (
    select t.device_id, t.flight_id
    from telemetry.telemetry as t
    where t.device_id = any (v_devices)
      and t.recorded_at >= v_now - interval '5 minutes' and t.recorded_at <= v_now + interval '1 minute'
    union all
    select s.device_id, f.flight_id
    from staged as s
    cross join lateral unnest(s.frames::telemetry.frame_values[]) as f
    where f.recorded_at >= v_now - interval '5 minutes' and f.recorded_at <= v_now + interval '1 minute'
  ),
  per_device as (
    select d.id as device_id, d.name,
           greatest(
             (select max(t.created_at) from telemetry.telemetry as t where t.device_id = d.id),
             (select max(s.created_at) from staged as s where s.device_id = d.id)) as last_frame_at,
           (select coalesce(sum(s.frame_count), 0) from staged as s where s.device_id = d.id)
             as staged_frames
    from telemetry.devices as d
    where d.id = any (v_devices)
  )
  select jsonb_build_object(
    'frames_per_minute', (
      select jsonb_agg(jsonb_build_object('minute', m.minute, 'frames', coalesce(r.frames, 0))
                       order by m.minute)
      from generate_series(v_since, date_trunc('minute', v_now), interval '1 minute') as m (minute)
      left join (select r.minute, sum(r.frames) as frames from received as r group by 1) as r
        on r.minute = m.minute),
    'active_devices', (select count(distinct r.device_id) from recent as r),
    'active_flights', (
      select count(distinct (r.device_id, r.flight_id)) from recent as r
      where r.flight_id is not null),
    'staging_backlog', (select coalesce(sum(s.frame_count), 0) from staged as s),
    'oldest_pending_age_seconds', (
      select round(extract(epoch from v_now - min(s.created_at))::numeric, 3) from staged as s),
    'last_frame_at', (select max(p.last_frame_at) from per_device as p),
    'devices', (
      select coalesce(jsonb_agg(to_jsonb(l) order by l.last_frame_at desc nulls last, l.device_id),
                      '[]'::jsonb)
      from (select p.* from per_device as p
            order by p.last_frame_at desc nulls last, p.device_id limit 100) as l),
    'last_flushes', '[]'::jsonb,
    'database_size_bytes', null,
    'database_size', null,
    'cache_hit_rate', null,
    'measured_at', v_now
  ) into v_result;
  return v_result;
end;
$$;
comment on function public.get_operator_monitor() is
  'The analytics monitor over the caller''s own devices (rates, backlog, last frames). authenticated.';
revoke all on function public.get_operator_monitor() from public;
grant execute on function public.get_operator_monitor() to authenticated;
