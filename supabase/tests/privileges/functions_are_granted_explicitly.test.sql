-- No function of public or telemetry is executable by PUBLIC (each has explicit grants); the
-- pipeline's entry points are executable by service_role only; every function pins search_path
-- to '' (a procedure that commits cannot, and is listed); security definer is used only where a
-- comment says why.
begin;
set local search_path = extensions, public;
select plan(7);

select is_empty(
  $$select p.oid::regprocedure::text
    from pg_catalog.pg_proc as p, pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) as a
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace)
      and a.grantee = 0 and a.privilege_type = 'EXECUTE'$$,
  'no function is executable by PUBLIC');

select results_eq(
  $$select r.rolname::text collate "default", has_function_privilege(r.oid, 'public.ingest_frames(text)', 'execute')
    from pg_catalog.pg_roles as r where r.rolname in ('anon', 'authenticated', 'service_role') order by 1$$,
  $$values ('anon'::text, false), ('authenticated', false), ('service_role', true)$$,
  'public.ingest_frames(text) is executable by service_role only');
select results_eq(
  $$select r.rolname::text collate "default", has_function_privilege(r.oid, 'public.flush_after_ingest()', 'execute')
    from pg_catalog.pg_roles as r where r.rolname in ('anon', 'authenticated', 'service_role') order by 1$$,
  $$values ('anon'::text, false), ('authenticated', false), ('service_role', true)$$,
  'public.flush_after_ingest() is executable by service_role only');
select results_eq(
  $$select r.rolname::text collate "default", has_function_privilege(r.oid, 'telemetry.flush_for(integer)', 'execute')
    from pg_catalog.pg_roles as r where r.rolname in ('anon', 'authenticated', 'service_role') order by 1$$,
  $$values ('anon'::text, false), ('authenticated', false), ('service_role', false)$$,
  'the procedure telemetry.flush_for(integer) is for pg_cron (its owner) only, no API role');

select is_empty(
  $$select p.oid::regprocedure::text from pg_catalog.pg_proc as p
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace)
      and p.prokind <> 'p'
      -- The haversine runs once per flushed frame: without a SET clause the planner inlines it
      -- (it calls only pg_catalog functions, which resolve first on any path).
      and p.oid <> 'telemetry.gps_distance_m(double precision, double precision, double precision, double precision)'::regprocedure
      and not coalesce('search_path=""' = any(p.proconfig), false)$$,
  'every function but the inlined haversine sets search_path = ''''');
select results_eq(
  $$select p.oid::regprocedure::text collate "default" from pg_catalog.pg_proc as p
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace) and p.prokind = 'p'
      and p.proconfig is null
    order by 1$$,
  $$values ('telemetry.flush_for(integer)'::text)$$,
  'the only procedure without a pinned search_path is telemetry.flush_for, which commits and qualifies every name');

select results_eq(
  $$select p.proname::text collate "default" from pg_catalog.pg_proc as p
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace) and p.prosecdef
    order by 1$$,
  $$values ('create_device'), ('field_order_cap'), ('get_batch_status'), ('get_replica_status'), ('get_settings'),
           ('get_slow_queries'),
           ('revoke_device'), ('rotate_device_key')$$,
  'security definer is limited to the functions that document why');

select * from finish();
rollback;
