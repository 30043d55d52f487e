-- A field order's page, found by its keys first (issue 16 §1: at the cap of 200,000 frames the
-- sort must fit 150 ms). The page sorted every frame in scope whole (some 90 columns, 435 bytes
-- a row in the plan) to keep 101; it now sorts only each frame's key and field value, then reads
-- the 101 whole frames by key. EXPLAIN ANALYZE of the sort over 190,000 frames of one device
-- (11 hours at 10 Hz), same load: 3,540 ms whole, 805 ms by key (a machine at load 16, so only
-- the ratio means anything). The indexed orders (created_at, recorded_at) are unchanged.

/*
 * public.read_telemetry_page(...) (as in 20261204030200_bound_prepared_statements.sql, with a
 * field order's page found by its keys first): a page of the frames the caller may see, as JSON
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
 *   The projection is a parameter of the prepared statement ($10, the columns left out, taken
 *   off each row's jsonb), not part of its text, so `fields` never makes a new statement; a
 *   projected frame's keys come in jsonb's order (shorter names first), a whole frame's in the
 *   table's.
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
  v_left_out text[];
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

  -- All of the view's columns (not p.*, which would add the row number); those not listed in
  -- p_columns are taken off each row by the $10 parameter.
  select string_agg(format('p.%I', a.attname), ', ' order by a.attnum),
         array_agg(a.attname::text order by a.attnum)
           filter (where p_columns is not null and a.attname <> all (p_columns))
  into v_select, v_left_out
  from pg_catalog.pg_attribute as a
  where a.attrelid = 'telemetry.frames'::regclass and a.attnum > 0 and not a.attisdropped;
  if p_columns is not null then
    v_left_out := coalesce(v_left_out, '{}');
  end if;

  -- PAGE: each visible device's first offset + limit + 1 frames, merged, offset skipped; one row
  -- beyond the page tells whether there is a next one. An indexed order reads only those rows.
  -- A field order sorts every frame in scope, so it sorts their keys only (id, device_id,
  -- recorded_at and the field: a few bytes a row instead of some 90 columns), then reads the
  -- page's whole frames by key: a flushed one (id set) from telemetry's unique index, a staged
  -- one through the view (the device's few staged requests unpacked). 3 to 4 times faster at
  -- 190,000 frames.
  if p_order_by not in ('created_at', 'recorded_at') then
    v_page := format(
      'with keys as materialized (
         select f.id, f.device_id, f.recorded_at, f.%5$I from telemetry.devices as d
         cross join lateral (
           select f.id, f.device_id, f.recorded_at, f.%5$I from telemetry.frames as f
           where f.device_id = d.id %1$s %2$s
           order by %3$s
           limit $8 + $9 + 1) as f
         where true %4$s
         order by %3$s
         limit $8 + 1 offset $9)
       select f.* from keys as k
       cross join lateral (
         select t.* from telemetry.telemetry as t
         where k.id is not null and t.device_id = k.device_id and t.recorded_at = k.recorded_at
         union all
         select s.* from telemetry.frames as s
         where k.id is null and s.device_id = k.device_id and s.recorded_at = k.recorded_at
         limit 1) as f',
      replace(v_filters, ' and d.id = $1', ''), v_keyset, v_order,
      case when p_device_id is not null then ' and d.id = $1' else '' end, p_order_by);
  else
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
  end if;
  v_page := format(
    'with page as materialized (%1$s),
     shown as (select f.*, row_number() over (order by %2$s) as n from page as f)
     select case when $10 is null
              then coalesce((select json_agg(q) from (
                select %3$s from shown as p where p.n <= $8 order by p.n) as q), ''[]'')
              else coalesce((select json_agg(to_jsonb(q) - $10) from (
                select %3$s from shown as p where p.n <= $8 order by p.n) as q), ''[]'') end,
            (select json_build_array(f.%4$I::text, f.recorded_at, f.device_id)
             from shown as f where f.n = $8 and exists (select from shown where n > $8))',
    v_page, v_order, v_select, p_order_by);
  execute format('execute %I(%L, %L, %L, %L, %L, %L, %L, %L, %L, %L)',
      telemetry.prepared_statement(v_page), p_device_id, p_flight_id, p_from, p_to,
      p_after->>0, p_after->>1, p_after->>2, p_limit, p_offset, v_left_out)
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
  execute format('execute %I(%L, %L, %L, %L, null, null, null, %L, 0, null)',
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

