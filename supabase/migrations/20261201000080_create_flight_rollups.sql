-- Analytics rollups: distance flown (from GPS), time armed and average battery voltage per hour
-- and day, and a summary per flight. The flush keeps them current from the rows it inserts
-- (migration stage_requests_as_text).
--
-- A segment links two consecutive frames of one device and one flight (flight_id equal, both
-- null counting as equal) at most 10 s apart: its armed time (when the earlier frame was armed)
-- and its distance (great circle between consecutive GPS fixes, same rule) count in the bucket of
-- the later frame. Longer gaps are not counted: a device that stopped sending is not assumed to
-- have stayed armed or to have flown in a straight line; nor is a segment to or from a frame
-- without a GPS fix flown distance. telemetry.device_tracks keeps each device's last rolled-up
-- frame, so the segment between two flush chunks is counted too.

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
 * telemetry.device_tracks: per device, the newest frame a flush has rolled up (with its GPS fix,
 * when it had one). The flush links a chunk's first frame of the device to it; only the flush
 * holding the device's try-lock reads or moves it, so the linking segment is never counted twice.
 */
create table telemetry.device_tracks (
  device_id uuid primary key references telemetry.devices (id) on delete cascade,
  last_frame_at timestamptz not null,
  last_flight_id text,
  last_armed boolean,
  last_gps_latitude double precision,
  last_gps_longitude double precision
);
comment on table telemetry.device_tracks is
  'Last rolled-up frame per device, so segments across flush chunks are counted.';

alter table telemetry.device_tracks enable row level security;
grant select, insert, update, delete on telemetry.device_tracks to service_role;

create policy "Service role manages the device tracks"
  on telemetry.device_tracks for all to service_role
  using (true) with check (true);

/*
 * telemetry.flights: one row per (device, flight_id), kept current by the flush: first and
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
 * telemetry.gps_distance_m(lat1, lon1, lat2, lon2): great-circle distance in metres (haversine,
 * mean Earth radius). Called by the flush for every frame.
 *
 * No `set search_path` clause: a SQL function with one is never inlined, and this one runs once
 * per flushed frame. It calls only pg_catalog functions, which resolve first whatever the path.
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
