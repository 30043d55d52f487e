-- Test support, loaded after the migrations (never a migration itself): the pgTAP extension and
-- the telemetry_tests schema of helpers the pgTAP files under supabase/tests use.

create extension if not exists pgtap with schema extensions;
-- The first migration revoked the default EXECUTE of new functions from PUBLIC; the tests call
-- pgTAP's functions as anon, authenticated and service_role too, so give them back to everyone.
do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select d.objid::regprocedure
    from pg_catalog.pg_depend as d
    join pg_catalog.pg_extension as e on e.oid = d.refobjid
    where e.extname = 'pgtap' and d.classid = 'pg_catalog.pg_proc'::regclass and d.deptype = 'e'
  loop
    execute format('grant execute on function %s to public', v_function);
  end loop;
end;
$$;

create schema if not exists telemetry_tests;
comment on schema telemetry_tests is 'Helpers for the pgTAP tests: users, devices, frames, role switching.';
-- Tests switch to the API roles and keep calling helpers (at least to switch back).
grant usage on schema telemetry_tests to anon, authenticated, service_role;

/*
 * telemetry_tests.create_user(p_email): a user in auth.users (standing in for GoTrue); returns its id.
 */
create or replace function telemetry_tests.create_user(p_email text)
returns uuid
language sql
volatile
set search_path = ''
as $$
  insert into auth.users (email) values (p_email) returning id
$$;

/*
 * telemetry_tests.create_device(p_owner_id, p_name): a device owned by p_owner_id, created
 * directly (no key is returned); returns its id.
 */
create or replace function telemetry_tests.create_device(p_owner_id uuid, p_name text default 'test drone')
returns uuid
language sql
volatile
set search_path = ''
as $$
  insert into telemetry.devices (owner_id, name, key_hash, key_prefix)
  values (p_owner_id, p_name, encode(extensions.gen_random_bytes(32), 'hex'), 'dtk_testtest')
  returning id
$$;

/*
 * telemetry_tests.frames(p_count, p_start, p_step): a JSON array of p_count frames, one every
 * p_step from p_start, with a few catalogue fields set, in the shape ingest_telemetry takes.
 */
create or replace function telemetry_tests.frames(
  p_count integer,
  p_start timestamptz default now() - interval '1 hour',
  p_step interval default interval '1 second'
)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'recorded_at', p_start + p_step * (g - 1),
           'flight_id', 'test-flight',
           'altitude_m', 100 + g,
           'battery_voltage_v', 16.8 - g * 0.001,
           'groundspeed_ms', g % 20,
           'armed', g % 2 = 0,
           'failsafe_active', g % 100 = 0
         ) order by g), '[]'::jsonb)
  from generate_series(1, p_count) as g
$$;

/*
 * telemetry_tests.frame_values_literal(p_frames): frames given as a JSON array of objects keyed
 * by column name, as the telemetry.frame_values[] literal that staging stores.
 */
create or replace function telemetry_tests.frame_values_literal(p_frames jsonb)
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce(
    array_agg(jsonb_populate_record(null::telemetry.frame_values, e.value) order by e.n),
    '{}')::text
  from jsonb_array_elements(p_frames) with ordinality as e (value, n)
$$;

/*
 * telemetry_tests.request_lines(p_device_id, p_key_hash, p_idempotency_key, p_frames, p_rejects,
 * p_summary): one request of a public.ingest_frames body, as telemetry-parse writes it: 4 parts
 * (header, frames, rejects, summary) ended by e'\n\x1e' but the last. Join requests with
 * e'\n\x1e'. The summary defaults to {"accepted": <frames>}.
 */
create or replace function telemetry_tests.request_lines(
  p_device_id uuid,
  p_key_hash text,
  p_idempotency_key text,
  p_frames jsonb,
  p_rejects jsonb default '[]',
  p_summary jsonb default null
)
returns text
language sql
stable
set search_path = ''
as $$
  select concat_ws(e'\n\x1e',
    jsonb_build_object('device_id', p_device_id, 'key_hash', p_key_hash,
      'idempotency_key', p_idempotency_key, 'frame_count', jsonb_array_length(p_frames))::text,
    telemetry_tests.frame_values_literal(p_frames),
    p_rejects::text,
    coalesce(p_summary, jsonb_build_object('accepted', jsonb_array_length(p_frames)))::text)
$$;

/*
 * telemetry_tests.authenticate_as(p_user_id): act as that user for the rest of the transaction:
 * role authenticated and JWT claims whose sub is the user, as PostgREST sets them.
 */
create or replace function telemetry_tests.authenticate_as(p_user_id uuid)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform set_config('request.jwt.claims',
    jsonb_build_object('sub', p_user_id, 'role', 'authenticated')::text, true);
  perform set_config('role', 'authenticated', true);
end;
$$;

/*
 * telemetry_tests.authenticate_as_service_role(): act as the service role (JWT role claim too).
 */
create or replace function telemetry_tests.authenticate_as_service_role()
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
  perform set_config('role', 'service_role', true);
end;
$$;

/*
 * telemetry_tests.authenticate_as_anon(): act as an anonymous caller (anon key, no user).
 */
create or replace function telemetry_tests.authenticate_as_anon()
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform set_config('request.jwt.claims', '{"role": "anon"}', true);
  perform set_config('role', 'anon', true);
end;
$$;

/*
 * telemetry_tests.reset_role(): back to the session user (postgres), without JWT claims.
 */
create or replace function telemetry_tests.reset_role()
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform set_config('role', 'none', true);
  perform set_config('request.jwt.claims', '', true);
end;
$$;

grant execute on all functions in schema telemetry_tests to anon, authenticated, service_role;

/*
 * telemetry_tests.hold_flush_lock(): takes the flush's advisory lock for the rest of the test
 * transaction, waiting for a scheduled flush that holds it to finish, and empties staging for
 * the test. Without the lock, a test's flush that happens to coincide with the pg_cron flush
 * would return skipped = true; without the delete, frames staged on a stack in use would be
 * counted and moved by the test's flush. Both end with the test's rollback. The lock is
 * re-entrant, so the test's own flushes still run.
 */
create or replace function telemetry_tests.hold_flush_lock()
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('telemetry.flush', 0));
  delete from telemetry.telemetry_staging;
end;
$$;
grant execute on function telemetry_tests.hold_flush_lock() to anon, authenticated, service_role;
