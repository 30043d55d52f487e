-- Analytics rollups: distance flown (from GPS), time armed and average battery voltage per hour
-- and day, a summary per flight, and the one function every flush calls to keep them current,
-- telemetry.apply_rollups. The next migration makes flush_chunk hand its inserted rows to
-- apply_rollups instead of updating the rollups inline.
--
-- A segment links two consecutive frames of one device and one flight (flight_id equal, both
-- null counting as equal) at most 10 s apart: its armed time (when the earlier frame was armed)
-- and its distance (great circle between consecutive GPS fixes, same rule) count in the bucket of
-- the later frame. Longer gaps are not counted: a device that stopped sending is not assumed to
-- have stayed armed or to have flown in a straight line. telemetry.device_tracks keeps each
-- device's last frame and last GPS fix, so the segment between two flush chunks is counted too.

alter table telemetry.hourly_rollups
  add column battery_voltage_samples bigint not null default 0,
  add column battery_voltage_sum_v double precision not null default 0,
  add column distance_m double precision not null default 0,
  add column armed_seconds double precision not null default 0;

alter table telemetry.daily_rollups
  add column battery_voltage_samples bigint not null default 0,
  add column battery_voltage_sum_v double precision not null default 0,
  add column distance_m double precision not null default 0,
  add column armed_seconds double precision not null default 0;

/*
 * telemetry.device_tracks: per device, the newest frame and the newest GPS fix that a flush has
 * rolled up. apply_rollups links a chunk's first frames to them; only the flush holding the
 * device's try-lock reads or moves them, so the linking segment is never counted twice.
 */
create table telemetry.device_tracks (
  device_id uuid primary key references telemetry.devices (id) on delete cascade,
  last_frame_at timestamptz,
  last_flight_id text,
  last_armed boolean,
  last_gps_at timestamptz,
  last_gps_flight_id text,
  last_gps_latitude double precision,
  last_gps_longitude double precision
);
comment on table telemetry.device_tracks is
  'Last rolled-up frame and GPS fix per device, so segments across flush chunks are counted.';

alter table telemetry.device_tracks enable row level security;
grant select, insert, update, delete on telemetry.device_tracks to service_role;

create policy "Service role manages the device tracks"
  on telemetry.device_tracks for all to service_role
  using (true) with check (true);

/*
 * telemetry.flights: one row per (device, flight_id), kept current by apply_rollups: first and
 * last frame, frames, distance flown and time armed. Frames without a flight_id belong to no
 * flight. Rows outlive the retention of raw frames, like the rollups.
 */
create table telemetry.flights (
  device_id uuid not null references telemetry.devices (id) on delete cascade,
  flight_id text not null,
  started_at timestamptz not null,
  ended_at timestamptz not null,
  frames bigint not null,
  distance_m double precision not null default 0,
  armed_seconds double precision not null default 0,
  updated_at timestamptz not null default now(),
  primary key (device_id, flight_id)
);
comment on table telemetry.flights is 'Per-flight summary, maintained incrementally by the flush.';

-- The analytics endpoint lists a device's flights newest first.
create index idx_flights_by_device_id_started_at on telemetry.flights (device_id, started_at desc);

alter table telemetry.flights enable row level security;
grant select on telemetry.flights to authenticated;
grant select, insert, update, delete on telemetry.flights to service_role;

create policy "Service role manages the flights"
  on telemetry.flights for all to service_role
  using (true) with check (true);

create policy "Owners see the flights of their devices"
  on telemetry.flights for select to authenticated
  using (device_id in (select d.id from telemetry.devices as d where d.owner_id = (select auth.uid())));

/*
 * public.telemetry_flights: the flights the caller may see (security_invoker, so RLS applies).
 */
create view public.telemetry_flights
with (security_invoker = true)
as
select f.device_id,
       f.flight_id,
       f.started_at,
       f.ended_at,
       extract(epoch from f.ended_at - f.started_at)::double precision as duration_seconds,
       f.frames,
       f.distance_m,
       f.armed_seconds
from telemetry.flights as f;
comment on view public.telemetry_flights is 'Flights of the devices the caller owns.';
revoke all on public.telemetry_flights from public, anon, authenticated, service_role;
grant select on public.telemetry_flights to authenticated, service_role;

-- The rollup views gain their new columns at the end (create or replace keeps the old ones).
create or replace view public.telemetry_hourly_rollups
with (security_invoker = true)
as
select r.device_id,
       r.bucket_start,
       r.frames,
       r.altitude_min_m as min_altitude_m,
       (r.altitude_sum_m / nullif(r.altitude_samples, 0))::real as avg_altitude_m,
       r.altitude_max_m as max_altitude_m,
       r.battery_voltage_min_v as min_battery_voltage_v,
       r.groundspeed_max_ms as max_groundspeed_ms,
       r.armed_frames,
       r.first_armed_at,
       r.last_armed_at,
       r.first_frame_at,
       r.last_frame_at,
       (r.battery_voltage_sum_v / nullif(r.battery_voltage_samples, 0))::real as avg_battery_voltage_v,
       r.distance_m,
       r.armed_seconds
from telemetry.hourly_rollups as r;

create or replace view public.telemetry_daily_rollups
with (security_invoker = true)
as
select r.device_id,
       r.bucket_start,
       r.frames,
       r.altitude_min_m as min_altitude_m,
       (r.altitude_sum_m / nullif(r.altitude_samples, 0))::real as avg_altitude_m,
       r.altitude_max_m as max_altitude_m,
       r.battery_voltage_min_v as min_battery_voltage_v,
       r.groundspeed_max_ms as max_groundspeed_ms,
       r.armed_frames,
       r.first_armed_at,
       r.last_armed_at,
       r.first_frame_at,
       r.last_frame_at,
       (r.battery_voltage_sum_v / nullif(r.battery_voltage_samples, 0))::real as avg_battery_voltage_v,
       r.distance_m,
       r.armed_seconds
from telemetry.daily_rollups as r;

/*
 * telemetry.rollup_sample: what a flush hands to apply_rollups for each frame it inserted.
 * altitude_m and groundspeed_ms are the values the rollups use (altitude_m, else baro, else GPS
 * altitude; groundspeed_ms, else GPS speed): the caller coalesces them.
 */
create type telemetry.rollup_sample as (
  device_id uuid,
  flight_id text,
  recorded_at timestamptz,
  altitude_m real,
  battery_voltage_v real,
  groundspeed_ms real,
  armed boolean,
  gps_latitude double precision,
  gps_longitude double precision
);

/*
 * telemetry.gps_distance_m(lat1, lon1, lat2, lon2): great-circle distance in metres (haversine,
 * mean Earth radius). Called by apply_rollups.
 */
create function telemetry.gps_distance_m(
  p_lat1 double precision,
  p_lon1 double precision,
  p_lat2 double precision,
  p_lon2 double precision
)
returns double precision
language sql
immutable
parallel safe
set search_path = ''
as $$
  select 2 * 6371008.8 * asin(least(1, sqrt(
    power(sin(radians(p_lat2 - p_lat1) / 2), 2)
    + cos(radians(p_lat1)) * cos(radians(p_lat2)) * power(sin(radians(p_lon2 - p_lon1) / 2), 2))))
$$;
comment on function telemetry.gps_distance_m(double precision, double precision, double precision, double precision) is
  'Great-circle distance in metres between two GPS fixes. Internal.';
grant execute on function telemetry.gps_distance_m(double precision, double precision, double precision, double precision)
  to service_role;

/*
 * telemetry.apply_rollups(p_samples): adds frames that a flush just inserted (each stored once)
 * to the hourly and daily rollups, the flights and the device tracks. Called by
 * telemetry.flush_chunk; its cost depends on the samples, never on the size of telemetry.
 *
 * Never waits for another flush on a device's track (a try-lock per device); hourly, daily and
 * flight rows are upserted in key order, so two flushes never deadlock.
 */
create function telemetry.apply_rollups(p_samples telemetry.rollup_sample[])
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_upserts bigint;
  v_owned uuid[];
begin
  if coalesce(cardinality(p_samples), 0) = 0 then
    return;
  end if;

  -- CLAIM: a flush never waits for another (flush_concurrency.sh): it takes each device's
  -- track with a try-lock, and a device whose track another flush holds is rolled up without
  -- the segment to its previous chunk (one segment missed, never one counted twice).
  v_owned := array(
    select d.device_id
    from (select distinct s.device_id from unnest(p_samples) as s order by 1) as d
    where pg_catalog.pg_try_advisory_xact_lock(20261201, pg_catalog.hashtext(d.device_id::text)));
  insert into telemetry.device_tracks (device_id)
  select d from unnest(v_owned) as d order by 1
  on conflict (device_id) do nothing;

  -- ROLLUPS
  with samples as (
    select * from unnest(p_samples) as s
  ),
  tracks as (
    select t.* from telemetry.device_tracks as t
    where t.device_id = any (v_owned)
  ),
  frames as (
    select s.device_id, s.flight_id, s.recorded_at, s.armed, true as is_new from samples as s
    union all
    select t.device_id, t.last_flight_id, t.last_frame_at, t.last_armed, false
    from tracks as t where t.last_frame_at is not null
  ),
  armed_segments as (
    select f.device_id, f.recorded_at, f.is_new,
           case when lag(f.armed) over w
                     and lag(f.flight_id) over w is not distinct from f.flight_id
                     and f.recorded_at - lag(f.recorded_at) over w <= interval '10 seconds'
                then extract(epoch from f.recorded_at - lag(f.recorded_at) over w)::double precision
                else 0 end as armed_seconds
    from frames as f
    window w as (partition by f.device_id order by f.recorded_at)
  ),
  fixes as (
    select s.device_id, s.flight_id, s.recorded_at, s.gps_latitude, s.gps_longitude, true as is_new
    from samples as s
    where s.gps_latitude is not null and s.gps_longitude is not null
    union all
    select t.device_id, t.last_gps_flight_id, t.last_gps_at, t.last_gps_latitude, t.last_gps_longitude, false
    from tracks as t where t.last_gps_at is not null
  ),
  gps_segments as (
    select g.device_id, g.recorded_at, g.is_new,
           case when lag(g.flight_id) over w is not distinct from g.flight_id
                     and g.recorded_at - lag(g.recorded_at) over w <= interval '10 seconds'
                then telemetry.gps_distance_m(lag(g.gps_latitude) over w, lag(g.gps_longitude) over w,
                                              g.gps_latitude, g.gps_longitude)
                else 0 end as distance_m
    from fixes as g
    window w as (partition by g.device_id order by g.recorded_at)
  ),
  measured as (
    select s.*,
           coalesce(a.armed_seconds, 0) as armed_seconds,
           coalesce(d.distance_m, 0) as distance_m
    from samples as s
    left join armed_segments as a
      on a.is_new and a.device_id = s.device_id and a.recorded_at = s.recorded_at
    left join gps_segments as d
      on d.is_new and d.device_id = s.device_id and d.recorded_at = s.recorded_at
  ),
  hourly as (
    insert into telemetry.hourly_rollups as r (
      device_id, bucket_start, frames, altitude_samples, altitude_sum_m, altitude_min_m,
      altitude_max_m, battery_voltage_min_v, groundspeed_max_ms, armed_frames, first_armed_at,
      last_armed_at, first_frame_at, last_frame_at, battery_voltage_samples,
      battery_voltage_sum_v, distance_m, armed_seconds
    )
    select m.device_id, date_trunc('hour', m.recorded_at, 'UTC'), count(*), count(m.altitude_m),
           coalesce(sum(m.altitude_m), 0), min(m.altitude_m), max(m.altitude_m),
           min(m.battery_voltage_v), max(m.groundspeed_ms), count(*) filter (where m.armed),
           min(m.recorded_at) filter (where m.armed), max(m.recorded_at) filter (where m.armed),
           min(m.recorded_at), max(m.recorded_at), count(m.battery_voltage_v),
           coalesce(sum(m.battery_voltage_v), 0), sum(m.distance_m), sum(m.armed_seconds)
    from measured as m
    group by 1, 2
    order by 1, 2
    on conflict (device_id, bucket_start) do update
    set frames = r.frames + excluded.frames,
        altitude_samples = r.altitude_samples + excluded.altitude_samples,
        altitude_sum_m = r.altitude_sum_m + excluded.altitude_sum_m,
        altitude_min_m = least(r.altitude_min_m, excluded.altitude_min_m),
        altitude_max_m = greatest(r.altitude_max_m, excluded.altitude_max_m),
        battery_voltage_min_v = least(r.battery_voltage_min_v, excluded.battery_voltage_min_v),
        groundspeed_max_ms = greatest(r.groundspeed_max_ms, excluded.groundspeed_max_ms),
        armed_frames = r.armed_frames + excluded.armed_frames,
        first_armed_at = least(r.first_armed_at, excluded.first_armed_at),
        last_armed_at = greatest(r.last_armed_at, excluded.last_armed_at),
        first_frame_at = least(r.first_frame_at, excluded.first_frame_at),
        last_frame_at = greatest(r.last_frame_at, excluded.last_frame_at),
        battery_voltage_samples = r.battery_voltage_samples + excluded.battery_voltage_samples,
        battery_voltage_sum_v = r.battery_voltage_sum_v + excluded.battery_voltage_sum_v,
        distance_m = r.distance_m + excluded.distance_m,
        armed_seconds = r.armed_seconds + excluded.armed_seconds,
        updated_at = now()
    returning 1
  ),
  daily as (
    insert into telemetry.daily_rollups as r (
      device_id, bucket_start, frames, altitude_samples, altitude_sum_m, altitude_min_m,
      altitude_max_m, battery_voltage_min_v, groundspeed_max_ms, armed_frames, first_armed_at,
      last_armed_at, first_frame_at, last_frame_at, battery_voltage_samples,
      battery_voltage_sum_v, distance_m, armed_seconds
    )
    select m.device_id, date_trunc('day', m.recorded_at, 'UTC'), count(*), count(m.altitude_m),
           coalesce(sum(m.altitude_m), 0), min(m.altitude_m), max(m.altitude_m),
           min(m.battery_voltage_v), max(m.groundspeed_ms), count(*) filter (where m.armed),
           min(m.recorded_at) filter (where m.armed), max(m.recorded_at) filter (where m.armed),
           min(m.recorded_at), max(m.recorded_at), count(m.battery_voltage_v),
           coalesce(sum(m.battery_voltage_v), 0), sum(m.distance_m), sum(m.armed_seconds)
    from measured as m
    group by 1, 2
    order by 1, 2
    on conflict (device_id, bucket_start) do update
    set frames = r.frames + excluded.frames,
        altitude_samples = r.altitude_samples + excluded.altitude_samples,
        altitude_sum_m = r.altitude_sum_m + excluded.altitude_sum_m,
        altitude_min_m = least(r.altitude_min_m, excluded.altitude_min_m),
        altitude_max_m = greatest(r.altitude_max_m, excluded.altitude_max_m),
        battery_voltage_min_v = least(r.battery_voltage_min_v, excluded.battery_voltage_min_v),
        groundspeed_max_ms = greatest(r.groundspeed_max_ms, excluded.groundspeed_max_ms),
        armed_frames = r.armed_frames + excluded.armed_frames,
        first_armed_at = least(r.first_armed_at, excluded.first_armed_at),
        last_armed_at = greatest(r.last_armed_at, excluded.last_armed_at),
        first_frame_at = least(r.first_frame_at, excluded.first_frame_at),
        last_frame_at = greatest(r.last_frame_at, excluded.last_frame_at),
        battery_voltage_samples = r.battery_voltage_samples + excluded.battery_voltage_samples,
        battery_voltage_sum_v = r.battery_voltage_sum_v + excluded.battery_voltage_sum_v,
        distance_m = r.distance_m + excluded.distance_m,
        armed_seconds = r.armed_seconds + excluded.armed_seconds,
        updated_at = now()
    returning 1
  ),
  flights as (
    insert into telemetry.flights as f (
      device_id, flight_id, started_at, ended_at, frames, distance_m, armed_seconds
    )
    select m.device_id, m.flight_id, min(m.recorded_at), max(m.recorded_at), count(*),
           sum(m.distance_m), sum(m.armed_seconds)
    from measured as m
    where m.flight_id is not null
    group by 1, 2
    order by 1, 2
    on conflict (device_id, flight_id) do update
    set started_at = least(f.started_at, excluded.started_at),
        ended_at = greatest(f.ended_at, excluded.ended_at),
        frames = f.frames + excluded.frames,
        distance_m = f.distance_m + excluded.distance_m,
        armed_seconds = f.armed_seconds + excluded.armed_seconds,
        updated_at = now()
    returning 1
  )
  select (select count(*) from hourly) + (select count(*) from daily) + (select count(*) from flights)
  into v_upserts;

  -- TRACKS: move each device's last frame and last fix forward (a late, older chunk leaves them).
  update telemetry.device_tracks as t
  set last_frame_at = n.recorded_at, last_flight_id = n.flight_id, last_armed = n.armed
  from (
    select distinct on (s.device_id) s.device_id, s.recorded_at, s.flight_id, s.armed
    from unnest(p_samples) as s
    order by s.device_id, s.recorded_at desc
  ) as n
  where t.device_id = n.device_id
    and t.device_id = any (v_owned)
    and n.recorded_at > coalesce(t.last_frame_at, '-infinity');

  update telemetry.device_tracks as t
  set last_gps_at = n.recorded_at, last_gps_flight_id = n.flight_id,
      last_gps_latitude = n.gps_latitude, last_gps_longitude = n.gps_longitude
  from (
    select distinct on (s.device_id) s.device_id, s.recorded_at, s.flight_id, s.gps_latitude,
           s.gps_longitude
    from unnest(p_samples) as s
    where s.gps_latitude is not null and s.gps_longitude is not null
    order by s.device_id, s.recorded_at desc
  ) as n
  where t.device_id = n.device_id
    and t.device_id = any (v_owned)
    and n.recorded_at > coalesce(t.last_gps_at, '-infinity');
end;
$$;
comment on function telemetry.apply_rollups(telemetry.rollup_sample[]) is
  'Adds a flush''s inserted frames to rollups, flights and device tracks. Internal.';
grant execute on function telemetry.apply_rollups(telemetry.rollup_sample[]) to service_role;

/*
 * public.get_pipeline_monitor(): the analytics monitor, from monitoring data only (flush log,
 * statistics views, the last minutes of frames), so its cost does not grow with history:
 * {frames_per_minute[{minute, frames}] (rows flushed per minute over the last hour),
 *  active_devices, active_flights (last 5 minutes), staging_backlog, oldest_pending_age_seconds,
 *  last_flushes[...10], database_size_bytes, database_size, cache_hit_rate (shared buffers,
 *  since statistics were reset), measured_at}.
 * Counts and times only, never a device id. service_role only: the function calls it for
 * operators, like get_batch_status.
 */
create function public.get_pipeline_monitor()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_metrics jsonb := public.get_performance_metrics();
begin
  return jsonb_build_object(
    'frames_per_minute', (
      select coalesce(jsonb_agg(jsonb_build_object('minute', m.minute, 'frames', coalesce(r.frames, 0))
                                order by m.minute), '[]'::jsonb)
      from generate_series(date_trunc('minute', v_now) - interval '59 minutes',
                           date_trunc('minute', v_now), interval '1 minute') as m (minute)
      left join (
        select date_trunc('minute', f.finished_at) as minute, sum(f.rows_moved) as frames
        from telemetry.flush_runs as f
        where f.started_at >= v_now - interval '61 minutes'
        group by 1
      ) as r on r.minute = m.minute),
    'active_devices', v_metrics -> 'active_devices_last_5_minutes',
    'active_flights', v_metrics -> 'active_flights_last_5_minutes',
    'staging_backlog', v_metrics -> 'staging_backlog',
    'oldest_pending_age_seconds', v_metrics -> 'oldest_pending_age_seconds',
    'last_flushes', (
      select coalesce(jsonb_agg(to_jsonb(l) - 'id' order by l.id desc), '[]'::jsonb)
      from (select f.* from telemetry.flush_runs as f order by f.id desc limit 10) as l),
    'database_size_bytes', v_metrics -> 'database_size_bytes',
    'database_size', v_metrics -> 'database_size',
    'cache_hit_rate', (
      select round(d.blks_hit::numeric / nullif(d.blks_hit + d.blks_read, 0), 4)
      from pg_catalog.pg_stat_database as d
      where d.datname = pg_catalog.current_database()),
    'measured_at', v_now
  );
end;
$$;
comment on function public.get_pipeline_monitor() is
  'Frames per minute, active devices and flights, backlog, last flushes, size, hit rate. service_role only.';
grant execute on function public.get_pipeline_monitor() to service_role;
