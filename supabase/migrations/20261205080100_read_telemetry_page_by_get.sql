-- telemetry-query reads pages on a read replica with GET: PostgREST runs a POST to a volatile
-- function (read_telemetry_page prepares statements) in a READ WRITE transaction, which a
-- standby refuses, and a GET in a READ ONLY one.

/*
 * public.read_telemetry_page_get(...): public.read_telemetry_page, for a GET. A GET's parameters
 * are all text, and PostgREST hands a text parameter to a jsonb argument as a JSON string, not as
 * the array read_telemetry_page takes for p_after: here p_after is that array's JSON text.
 * security invoker, like read_telemetry_page: the caller's RLS decides what is seen.
 * Called by telemetry-query through a read replica's PostgREST as the operator.
 */
create function public.read_telemetry_page_get(
  p_device_id uuid default null,
  p_flight_id text default null,
  p_from timestamptz default null,
  p_to timestamptz default null,
  p_order_by text default 'created_at',
  p_desc boolean default true,
  p_limit integer default 100,
  p_offset integer default 0,
  p_after text default null,
  p_columns text[] default null,
  p_count_cap integer default 1000
)
returns json
language sql
volatile
set search_path = ''
set jit = off
as $$
  select public.read_telemetry_page(
    p_device_id, p_flight_id, p_from, p_to, p_order_by, p_desc, p_limit, p_offset,
    p_after::jsonb, p_columns, p_count_cap
  )
$$;
comment on function public.read_telemetry_page_get(uuid, text, timestamptz, timestamptz, text,
  boolean, integer, integer, text, text[], integer) is
  'read_telemetry_page for a GET (a read replica): p_after as JSON text. telemetry-query.';
revoke all on function public.read_telemetry_page_get(uuid, text, timestamptz, timestamptz, text,
  boolean, integer, integer, text, text[], integer) from public;
grant execute on function public.read_telemetry_page_get(uuid, text, timestamptz, timestamptz, text,
  boolean, integer, integer, text, text[], integer) to authenticated, service_role;
