-- Hourly and daily rollups per device. Rollup tables maintained by the flush rather than
-- materialized views: REFRESH MATERIALIZED VIEW CONCURRENTLY recomputes the whole view, so its cost
-- grows with telemetry; adding each flushed chunk costs the same however big the table gets.
--
-- Altitude is altitude_m, else baro_altitude_m, else gps_altitude_m (whichever the device
-- reports); ground speed is groundspeed_ms, else gps_speed_ms. Rollups outlive the retention of
-- raw frames: dropping a partition leaves them alone.

/*
 * telemetry.hourly_rollups: per device and hour (UTC), the aggregates the analytics endpoint shows.
 * Kept current by the flush from the rows each chunk inserts (see telemetry.flush_chunk), so the
 * cost of keeping it current depends on the rows flushed, never on the size of telemetry.
 * Averages are stored as sum and count so that chunks can be added together.
 */
create table telemetry.hourly_rollups (
  device_id uuid not null references telemetry.devices (id) on delete cascade,
  bucket_start timestamptz not null,
  frames bigint not null,
  altitude_samples bigint not null,
  altitude_sum_m double precision not null,
  altitude_min_m real,
  altitude_max_m real,
  battery_voltage_min_v real,
  groundspeed_max_ms real,
  armed_frames bigint not null,
  first_armed_at timestamptz,
  last_armed_at timestamptz,
  first_frame_at timestamptz not null,
  last_frame_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (device_id, bucket_start),
  constraint bucket_start_is_a_hour check (bucket_start = date_trunc('hour', bucket_start, 'UTC'))
);
comment on table telemetry.hourly_rollups is
  'Hourly aggregates per device, maintained incrementally by the flush.';

alter table telemetry.hourly_rollups enable row level security;
grant select on telemetry.hourly_rollups to authenticated;
grant select, insert, update, delete on telemetry.hourly_rollups to service_role;

create policy "Service role manages the hourly rollups"
  on telemetry.hourly_rollups for all to service_role
  using (true) with check (true);

create policy "Owners see the hourly rollups of their devices"
  on telemetry.hourly_rollups for select to authenticated
  using (device_id in (select d.id from telemetry.devices as d where d.owner_id = (select auth.uid())));

/*
 * public.telemetry_hourly_rollups: the hourly rollups the caller may see (security_invoker, so the
 * RLS above applies). Armed time is given as the number of armed frames and the first and last
 * armed frame of the bucket.
 */
create view public.telemetry_hourly_rollups
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
       r.last_frame_at
from telemetry.hourly_rollups as r;
comment on view public.telemetry_hourly_rollups is 'Hourly aggregates of the devices the caller owns.';
revoke all on public.telemetry_hourly_rollups from public, anon, authenticated, service_role;
grant select on public.telemetry_hourly_rollups to authenticated, service_role;

/*
 * telemetry.daily_rollups: per device and day (UTC), the aggregates the analytics endpoint shows.
 * Kept current by the flush from the rows each chunk inserts (see telemetry.flush_chunk), so the
 * cost of keeping it current depends on the rows flushed, never on the size of telemetry.
 * Averages are stored as sum and count so that chunks can be added together.
 */
create table telemetry.daily_rollups (
  device_id uuid not null references telemetry.devices (id) on delete cascade,
  bucket_start timestamptz not null,
  frames bigint not null,
  altitude_samples bigint not null,
  altitude_sum_m double precision not null,
  altitude_min_m real,
  altitude_max_m real,
  battery_voltage_min_v real,
  groundspeed_max_ms real,
  armed_frames bigint not null,
  first_armed_at timestamptz,
  last_armed_at timestamptz,
  first_frame_at timestamptz not null,
  last_frame_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (device_id, bucket_start),
  constraint bucket_start_is_a_day check (bucket_start = date_trunc('day', bucket_start, 'UTC'))
);
comment on table telemetry.daily_rollups is
  'Daily aggregates per device, maintained incrementally by the flush.';

alter table telemetry.daily_rollups enable row level security;
grant select on telemetry.daily_rollups to authenticated;
grant select, insert, update, delete on telemetry.daily_rollups to service_role;

create policy "Service role manages the daily rollups"
  on telemetry.daily_rollups for all to service_role
  using (true) with check (true);

create policy "Owners see the daily rollups of their devices"
  on telemetry.daily_rollups for select to authenticated
  using (device_id in (select d.id from telemetry.devices as d where d.owner_id = (select auth.uid())));

/*
 * public.telemetry_daily_rollups: the daily rollups the caller may see (security_invoker, so the
 * RLS above applies). Armed time is given as the number of armed frames and the first and last
 * armed frame of the bucket.
 */
create view public.telemetry_daily_rollups
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
       r.last_frame_at
from telemetry.daily_rollups as r;
comment on view public.telemetry_daily_rollups is 'Daily aggregates of the devices the caller owns.';
revoke all on public.telemetry_daily_rollups from public, anon, authenticated, service_role;
grant select on public.telemetry_daily_rollups to authenticated, service_role;
