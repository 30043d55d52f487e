-- Every limit telemetry-query documents holds in SQL too (issue 21 §2), since PostgREST serves
-- public.read_telemetry_page to any operator directly (POST /rest/v1/rpc/read_telemetry_page):
-- page size at most 1,000, offset at most 10,000, count cap at most 1,000, and a field order
-- (issue 16 §1) only over a scope whose frames are estimated at most
-- telemetry.settings.field_order_max_frames (200,000 by default). The frames view the
-- function reads moves to the private schema (telemetry.frames); public.telemetry_frames stays,
-- as a view of it, for service_role only: through PostgREST an operator could otherwise sort
-- every frame they own by any column (`?order=roll_degrees`), past every limit above.
-- anon and authenticated get the statement timeouts hosted Supabase gives them (3 s and 8 s);
-- PostgREST applies the impersonated role's settings to each request.

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

alter table telemetry.settings
  add column field_order_max_frames integer not null default 200000,
  add constraint field_order_max_frames_is_at_least_1000 check (field_order_max_frames >= 1000);
comment on column telemetry.settings.field_order_max_frames is
  'Most frames (estimated) a query ordered by a telemetry field may sort: flight_id or from/to narrow it.';

/*
 * telemetry.frames: every frame the caller may see, flushed or still staged, each
 * (device_id, recorded_at) once (the definition public.telemetry_frames had; see
 * 20261201000090_stage_requests_as_text.sql for how staged frames are unpacked and deduplicated).
 * In the private schema so that PostgREST does not serve it; read_telemetry_page reads it as the
 * caller (security_invoker: the RLS of both tables applies).
 */
create view telemetry.frames
with (security_invoker = true)
as
select t.*
from telemetry.telemetry as t
union all
select
       u.id, u.device_id, u.flight_id, u.recorded_at, u.created_at, u.flight_mode, u.armed,
       u.flight_time_seconds, u.cpu_load_percent, u.roll_degrees, u.pitch_degrees,
       u.yaw_degrees, u.heading_degrees, u.roll_rate_dps, u.pitch_rate_dps, u.yaw_rate_dps,
       u.accel_x_ms2, u.accel_y_ms2, u.accel_z_ms2, u.gps_fix_type, u.gps_satellites,
       u.gps_latitude, u.gps_longitude, u.gps_altitude_m, u.gps_speed_ms,
       u.gps_course_degrees, u.gps_hdop, u.gps_vdop, u.baro_altitude_m, u.baro_pressure_pa,
       u.baro_temperature_c, u.altitude_m, u.battery_voltage_v, u.battery_current_a,
       u.battery_consumed_mah, u.battery_remaining_percent, u.motor1_pwm, u.motor2_pwm,
       u.motor3_pwm, u.motor4_pwm, u.motor5_pwm, u.motor6_pwm, u.motor7_pwm, u.motor8_pwm,
       u.pid_roll_p, u.pid_roll_i, u.pid_roll_d, u.pid_pitch_p, u.pid_pitch_i, u.pid_pitch_d,
       u.pid_yaw_p, u.pid_yaw_i, u.pid_yaw_d, u.rc_roll, u.rc_pitch, u.rc_throttle, u.rc_yaw,
       u.rc_aux1, u.rc_aux2, u.rc_aux3, u.rc_aux4, u.velocity_x_ms, u.velocity_y_ms,
       u.velocity_z_ms, u.position_x_m, u.position_y_m, u.position_z_m, u.magnetometer_x,
       u.magnetometer_y, u.magnetometer_z, u.temperature_c, u.humidity_percent,
       u.failsafe_active, u.vibration_x, u.vibration_y, u.vibration_z, u.airspeed_ms,
       u.groundspeed_ms, u.climb_rate_ms, u.throttle_percent, u.rssi_percent, u.raw_data,
       u.parser_version, u.data_source, u.extra
from (
  select
         null::bigint as id, s.device_id, j.flight_id, coalesce(j.recorded_at,
         s.created_at) as recorded_at, s.created_at, j.flight_mode, j.armed,
         j.flight_time_seconds, j.cpu_load_percent, j.roll_degrees, j.pitch_degrees,
         j.yaw_degrees, j.heading_degrees, j.roll_rate_dps, j.pitch_rate_dps,
         j.yaw_rate_dps, j.accel_x_ms2, j.accel_y_ms2, j.accel_z_ms2, j.gps_fix_type,
         j.gps_satellites, j.gps_latitude, j.gps_longitude, j.gps_altitude_m,
         j.gps_speed_ms, j.gps_course_degrees, j.gps_hdop, j.gps_vdop, j.baro_altitude_m,
         j.baro_pressure_pa, j.baro_temperature_c, j.altitude_m, j.battery_voltage_v,
         j.battery_current_a, j.battery_consumed_mah, j.battery_remaining_percent,
         j.motor1_pwm, j.motor2_pwm, j.motor3_pwm, j.motor4_pwm, j.motor5_pwm,
         j.motor6_pwm, j.motor7_pwm, j.motor8_pwm, j.pid_roll_p, j.pid_roll_i,
         j.pid_roll_d, j.pid_pitch_p, j.pid_pitch_i, j.pid_pitch_d, j.pid_yaw_p,
         j.pid_yaw_i, j.pid_yaw_d, j.rc_roll, j.rc_pitch, j.rc_throttle, j.rc_yaw,
         j.rc_aux1, j.rc_aux2, j.rc_aux3, j.rc_aux4, j.velocity_x_ms, j.velocity_y_ms,
         j.velocity_z_ms, j.position_x_m, j.position_y_m, j.position_z_m, j.magnetometer_x,
         j.magnetometer_y, j.magnetometer_z, j.temperature_c, j.humidity_percent,
         j.failsafe_active, j.vibration_x, j.vibration_y, j.vibration_z, j.airspeed_ms,
         j.groundspeed_ms, j.climb_rate_ms, j.throttle_percent, j.rssi_percent, j.raw_data,
         j.parser_version, j.data_source, j.extra,
         row_number() over (
           partition by s.device_id, coalesce(j.recorded_at, s.created_at)
           order by s.id, j.ordinality
         ) as copy
  from telemetry.telemetry_staging as s
  cross join lateral unnest(s.frames::telemetry.frame_values[]) with ordinality as j
) as u
where u.copy = 1
  and not exists (
    select from telemetry.telemetry as t
    where t.device_id = u.device_id and t.recorded_at = u.recorded_at);
comment on view telemetry.frames is
  'Frames of the caller''s devices, flushed or staged, deduplicated on (device_id, recorded_at).';
revoke all on telemetry.frames from public, anon, authenticated, service_role;
grant select on telemetry.frames to authenticated, service_role;

-- The public view keeps its name and columns for service role (scripts, checks); operators read
-- frames through read_telemetry_page only.
create or replace view public.telemetry_frames
with (security_invoker = true)
as
select f.* from telemetry.frames as f;
revoke all on public.telemetry_frames from public, anon, authenticated, service_role;
grant select on public.telemetry_frames to service_role;

/*
 * telemetry.field_order_cap(): the most frames (estimated) a field order may sort, from
 * telemetry.settings. security definer: the settings row is no tenant data, and operators have no
 * privilege on telemetry.settings.
 */
create function telemetry.field_order_cap()
returns integer
language sql
stable
security definer
set search_path = ''
set jit = off
as $$
  select s.field_order_max_frames from telemetry.settings as s where s.id
$$;
comment on function telemetry.field_order_cap() is
  'settings.field_order_max_frames, for read_telemetry_page (operators cannot read settings).';
revoke all on function telemetry.field_order_cap() from public;
grant execute on function telemetry.field_order_cap() to authenticated, service_role;

/*
 * telemetry.frames_in_scope(device, flight, from, to): an estimate of the frames the caller sees
 * in a query's scope, in O(flights or days), never by counting frames:
 * - with a flight: each matching flight's frame count (telemetry.flights), times the share of
 *   the flight inside from/to;
 * - else: the daily rollups of the visible devices (one with p_device_id), each day weighted by
 *   its share inside from/to;
 * - plus every staged frame of those devices (a few seconds of backlog, counted whole).
 * security invoker: RLS limits every table read to the caller's devices.
 */
create function telemetry.frames_in_scope(
  p_device_id uuid, p_flight_id text, p_from timestamptz, p_to timestamptz)
returns bigint
language plpgsql
stable
set search_path = ''
set jit = off
as $$
declare
  v_flushed numeric;
  v_staged bigint;
begin
  if p_flight_id is not null then
    select sum(fl.frames * case
             when fl.ended_at <= fl.started_at then 1
             else greatest(0, extract(epoch from
                    least(fl.ended_at, coalesce(p_to, fl.ended_at))
                    - greatest(fl.started_at, coalesce(p_from, fl.started_at))))
                  / extract(epoch from fl.ended_at - fl.started_at)
           end)
    into v_flushed
    from telemetry.flights as fl
    where fl.flight_id = p_flight_id
      and (p_device_id is null or fl.device_id = p_device_id)
      and (p_from is null or fl.ended_at >= p_from)
      and (p_to is null or fl.started_at < p_to);
  else
    select sum(r.frames * extract(epoch from
             least(r.bucket_start + interval '1 day', coalesce(p_to, r.bucket_start + interval '1 day'))
             - greatest(r.bucket_start, coalesce(p_from, r.bucket_start))) / 86400)
    into v_flushed
    from telemetry.daily_rollups as r
    where (p_device_id is null or r.device_id = p_device_id)
      and (p_from is null or r.bucket_start > p_from - interval '1 day')
      and (p_to is null or r.bucket_start < p_to);
  end if;
  select sum(s.frame_count) into v_staged
  from telemetry.telemetry_staging as s
  where p_device_id is null or s.device_id = p_device_id;
  return ceil(coalesce(v_flushed, 0))::bigint + coalesce(v_staged, 0);
end;
$$;
comment on function telemetry.frames_in_scope(uuid, text, timestamptz, timestamptz) is
  'Estimated frames the caller sees in a scope (flights or daily rollups, plus staged). read_telemetry_page.';
revoke all on function telemetry.frames_in_scope(uuid, text, timestamptz, timestamptz) from public;
grant execute on function telemetry.frames_in_scope(uuid, text, timestamptz, timestamptz)
  to authenticated, service_role;

/*
 * public.read_telemetry_page(...): a page of the frames the caller may see, as JSON
 *   {data: [frame, ...], next: [order value as text, recorded_at, device_id] | null,
 *    count: integer | null, count_method: 'exact' | 'estimated' | null}.
 *
 * - Order: p_order_by (a column of telemetry.frames), then recorded_at, then device_id, all in
 *   the direction p_desc; NULLs of p_order_by come last either way. (device_id, recorded_at) is
 *   unique, so the order is total and pages never overlap or skip.
 * - Paging: p_after is the `next` of the previous page (keyset: O(limit) however deep), or
 *   p_offset rows are skipped (each device's rows up to offset + limit are read).
 * - Scope: for each device the caller sees (one with p_device_id), its first offset + limit
 *   frames in this order, then merged: the cost grows with the caller's devices, never with their
 *   frames, when an index serves the order (created_at, recorded_at). Any other order sorts every
 *   frame in scope, so the scope must be bounded: telemetry.frames_in_scope at most
 *   settings.field_order_max_frames, else 22023 with hint 'field_order_scope' and the cap and
 *   the estimate as JSON in the detail.
 * - p_count_cap: count the matching frames (filters only, not the cursor) up to this many:
 *   'exact' when there are no more, else 'estimated' from the daily rollups (at least cap + 1).
 *   0 skips the count (count and count_method null).
 * - p_columns: the frame's columns to return (null: all); they must include every order column.
 * - GUARD: the limits telemetry-query documents hold here too, since PostgREST serves this
 *   function to any operator: p_limit 1 to 1,000, p_offset 0 to 10,000, p_count_cap 0 to 1,000.
 *
 * security invoker: the RLS of the view's tables and of telemetry.devices decides what is seen.
 * Called by telemetry-query through PostgREST as the operator (authenticated or service_role).
 */
create or replace function public.read_telemetry_page(
  p_device_id uuid default null,
  p_flight_id text default null,
  p_from timestamptz default null,
  p_to timestamptz default null,
  p_order_by text default 'created_at',
  p_desc boolean default true,
  p_limit integer default 100,
  p_offset integer default 0,
  p_after jsonb default null,
  p_columns text[] default null,
  p_count_cap integer default 1000
)
returns json
language plpgsql
-- volatile because it prepares statements in the session (telemetry.prepared_statement); it
-- writes nothing.
volatile
set search_path = ''
-- Cached plans are generic: a custom plan would be planned anew on every call.
set plan_cache_mode = force_generic_plan
set jit = off
as $$
declare
  v_type text;
  v_dir text := case when p_desc then 'desc' else 'asc' end;
  v_cmp text := case when p_desc then '<' else '>' end;
  v_order text;
  v_filters text := '';
  v_keyset text := '';
  v_select text;
  v_page text;
  -- json, not jsonb, and never taken apart: the page is passed through as PostgREST sends it.
  v_data json;
  v_next json;
  v_count bigint;
  v_cap integer;
  v_flight_from timestamptz;
  v_flight_to timestamptz;
begin
  -- GUARD
  select format_type(a.atttypid, a.atttypmod) into v_type
  from pg_catalog.pg_attribute as a
  where a.attrelid = 'telemetry.frames'::regclass and a.attname = p_order_by
    and a.attnum > 0 and not a.attisdropped;
  if v_type is null then
    raise exception 'p_order_by must be a column of telemetry_frames, got %', p_order_by
      using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be from 1 to 1000, got %', p_limit using errcode = '22023';
  end if;
  if p_offset is null or p_offset not between 0 and 10000 then
    raise exception 'p_offset must be from 0 to 10000 (use p_after beyond), got %', p_offset
      using errcode = '22023';
  end if;
  if p_count_cap is not null and p_count_cap not between 0 and 1000 then
    raise exception 'p_count_cap must be from 0 to 1000, got %', p_count_cap
      using errcode = '22023';
  end if;
  if p_desc is null then
    raise exception 'p_desc must be true or false' using errcode = '22023';
  end if;
  if p_after is not null and (jsonb_typeof(p_after) <> 'array' or jsonb_array_length(p_after) <> 3) then
    raise exception 'p_after must be [order value, recorded_at, device_id]' using errcode = '22023';
  end if;
  if cardinality(p_columns) > 200 or exists (
      select from unnest(p_columns) as c (name)
      where not exists (select from pg_catalog.pg_attribute as a
                        where a.attrelid = 'telemetry.frames'::regclass
                          and a.attname = c.name and a.attnum > 0)) then
    raise exception 'p_columns names a column telemetry_frames does not have'
      using errcode = '22023';
  end if;
  -- SCOPE: an order no index serves sorts every frame in scope, so the scope must be small.
  if p_order_by not in ('created_at', 'recorded_at') then
    v_cap := telemetry.field_order_cap();
    v_count := telemetry.frames_in_scope(p_device_id, p_flight_id, p_from, p_to);
    if v_count > v_cap then
      raise exception 'order_by "%" sorts every frame in scope: about % frames here, the cap is %; narrow the scope with flight_id or from/to',
          p_order_by, v_count, v_cap
        using errcode = '22023', hint = 'field_order_scope',
          detail = json_build_object('cap', v_cap, 'estimate', v_count,
                                     'narrow_with', json_build_array('flight_id', 'from', 'to'))::text;
    end if;
  end if;

  -- ORDER: the key is (p_order_by, recorded_at, device_id). created_at and recorded_at are never
  -- null; for other columns "is null" first makes NULLs last in either direction.
  v_order := case
    when p_order_by = 'recorded_at' then format('f.recorded_at %1$s, f.device_id %1$s', v_dir)
    when p_order_by = 'created_at' then
      format('f.created_at %1$s, f.recorded_at %1$s, f.device_id %1$s', v_dir)
    else format('(f.%2$I is null), f.%2$I %1$s, f.recorded_at %1$s, f.device_id %1$s', v_dir, p_order_by)
  end;

  -- FLIGHT: a device's flight lies between its first and last frame, so the time range is
  -- narrowed to them and the index is read only there. Without it an old flight would be found
  -- by walking every newer frame of the device. The bounds are the flight's row (flushed
  -- frames) and the device's staged frames of that flight (a few seconds of backlog, unpacked).
  if p_flight_id is not null and p_device_id is not null then
    select least(min(b.first_at), min(b.last_at)), greatest(max(b.first_at), max(b.last_at))
    into v_flight_from, v_flight_to
    from (
      select fl.started_at as first_at, fl.ended_at as last_at
      from telemetry.flights as fl
      where fl.device_id = p_device_id and fl.flight_id = p_flight_id
      union all
      select min(sf.recorded_at), max(sf.recorded_at)
      from telemetry.telemetry_staging as st
      cross join lateral unnest(st.frames::telemetry.frame_values[]) as sf
      where st.device_id = p_device_id and sf.flight_id = p_flight_id
    ) as b;
    -- No frame of that flight anywhere: an empty range, found at once.
    p_from := greatest(p_from, coalesce(v_flight_from, 'infinity'));
    p_to := least(p_to, coalesce(v_flight_to + interval '1 microsecond', 'infinity'));
  end if;

  -- FILTERS ($1 device, $2 flight, $3 from inclusive, $4 to exclusive)
  if p_device_id is not null then v_filters := v_filters || ' and d.id = $1'; end if;
  if p_flight_id is not null then v_filters := v_filters || ' and f.flight_id = $2'; end if;
  if p_from is not null then v_filters := v_filters || ' and f.recorded_at >= $3'; end if;
  if p_to is not null then v_filters := v_filters || ' and f.recorded_at < $4'; end if;

  -- KEYSET ($5 order value as text, $6 recorded_at, $7 device_id): rows after the last one read.
  -- Within one device the device_id is fixed, so "(key) <= (last key)" is what the index can
  -- seek to; the exact row comparison then drops the last row itself (and, for the device of
  -- the last row, the rows of other devices with an equal key that sort before it).
  if p_after is not null then
    v_keyset := case
      when p_order_by = 'recorded_at' then format(
        ' and f.recorded_at %1$s= $6 and (f.recorded_at, f.device_id) %1$s ($6, $7)', v_cmp)
      when p_order_by = 'created_at' then format(
        ' and (f.created_at, f.recorded_at) %1$s= ($5::timestamptz, $6)'
        ' and (f.created_at, f.recorded_at, f.device_id) %1$s ($5::timestamptz, $6, $7)', v_cmp)
      when p_after->>0 is null then format(
        ' and f.%2$I is null and (f.recorded_at, f.device_id) %1$s ($6, $7)', v_cmp, p_order_by)
      else format(
        ' and (f.%2$I is null or f.%2$I %1$s $5::%3$s'
        ' or (f.%2$I = $5::%3$s and (f.recorded_at, f.device_id) %1$s ($6, $7)))',
        v_cmp, p_order_by, v_type)
    end;
  end if;

  -- The listed columns, else all of the view's (not p.*, which would add the row number).
  select string_agg(format('p.%I', a.attname), ', ' order by a.attnum) into v_select
  from pg_catalog.pg_attribute as a
  where a.attrelid = 'telemetry.frames'::regclass and a.attnum > 0 and not a.attisdropped
    and (p_columns is null or a.attname = any (p_columns));

  -- PAGE: each visible device's first offset + limit + 1 frames, merged, offset skipped; one row
  -- beyond the page tells whether there is a next one.
  v_page := format(
    'select f.* from telemetry.devices as d
     cross join lateral (
       select f.* from telemetry.frames as f
       where f.device_id = d.id %1$s %2$s
       order by %3$s
       limit $8 + $9 + 1) as f
     where true %4$s
     order by %3$s
     limit $8 + 1 offset $9',
    replace(v_filters, ' and d.id = $1', ''), v_keyset, v_order,
    case when p_device_id is not null then ' and d.id = $1' else '' end);
  v_page := format(
    'with page as materialized (%1$s),
     shown as (select f.*, row_number() over (order by %2$s) as n from page as f)
     select coalesce((select json_agg(q) from (
              select %3$s from shown as p where p.n <= $8 order by p.n) as q), ''[]''),
            (select json_build_array(f.%4$I::text, f.recorded_at, f.device_id)
             from shown as f where f.n = $8 and exists (select from shown where n > $8))',
    v_page, v_order, v_select, p_order_by);
  execute format('execute %I(%L, %L, %L, %L, %L, %L, %L, %L, %L)',
      telemetry.prepared_statement(v_page), p_device_id, p_flight_id, p_from, p_to,
      p_after->>0, p_after->>1, p_after->>2, p_limit, p_offset)
  into v_data, v_next;

  -- COUNT: exact up to the cap, by reading at most cap + 1 frames.
  if coalesce(p_count_cap, 0) <= 0 then
    return json_build_object('data', v_data, 'next', v_next,
      'count', null, 'count_method', null);
  end if;
  v_page := format(
    'select count(*) from (
       select 1 from telemetry.devices as d
       cross join lateral (
         select 1 from telemetry.frames as f
         where f.device_id = d.id %1$s limit $8 + 1) as f
       where true %2$s limit $8 + 1) as c',
    replace(v_filters, ' and d.id = $1', ''),
    case when p_device_id is not null then ' and d.id = $1' else '' end);
  execute format('execute %I(%L, %L, %L, %L, null, null, null, %L, 0)',
      telemetry.prepared_statement(v_page), p_device_id, p_flight_id, p_from, p_to, p_count_cap)
  into v_count;
  if v_count <= p_count_cap then
    return json_build_object('data', v_data, 'next', v_next,
      'count', v_count, 'count_method', 'exact');
  end if;
  -- ESTIMATE: the frames the daily rollups counted for the visible devices, each day weighted by
  -- the share of it inside the window (O(days), not O(frames)); the flight filter and staged
  -- frames are not in it.
  select coalesce(sum(r.frames * extract(epoch from
           least(r.bucket_start + interval '1 day', coalesce(p_to, r.bucket_start + interval '1 day'))
           - greatest(r.bucket_start, coalesce(p_from, r.bucket_start))) / 86400), 0)::bigint
  into v_count
  from telemetry.daily_rollups as r
  where (p_device_id is null or r.device_id = p_device_id)
    and (p_from is null or r.bucket_start > p_from - interval '1 day')
    and (p_to is null or r.bucket_start < p_to);
  return json_build_object('data', v_data, 'next', v_next,
    'count', greatest(p_count_cap + 1, v_count), 'count_method', 'estimated');
end;
$$;

notify pgrst, 'reload config';
notify pgrst, 'reload schema';
