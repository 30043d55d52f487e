-- Nothing on the request path waits for a JIT compile: every function in public (what PostgREST
-- exposes) and in telemetry (what those call, and what pg_cron calls) runs with jit = off, listed
-- from the catalogue so that a new function, or one redefined without its SET clause, fails here.
-- The two kept without it say why in 20261204030000_request_path_without_jit.sql. The roles
-- PostgREST impersonates have jit = off for the views they read directly.
begin;
set local search_path = extensions, public;
select plan(4);

select is_empty(
  $$select p.oid::regprocedure::text from pg_catalog.pg_proc as p
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace)
      and p.prokind = 'f'
      and p.oid <> 'telemetry.gps_distance_m(double precision, double precision, double precision, double precision)'::regprocedure
      and not exists (select from pg_catalog.pg_depend as d
                      where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
                        and d.deptype = 'e')
      and not coalesce('jit=off' = any(p.proconfig), false)$$,
  'every function in public and telemetry but the inlined haversine runs with jit = off');

select is_empty(
  $$select p.oid::regprocedure::text from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace
      and (has_function_privilege('anon', p.oid, 'execute')
           or has_function_privilege('authenticated', p.oid, 'execute')
           or has_function_privilege('service_role', p.oid, 'execute'))
      and not coalesce('jit=off' = any(p.proconfig), false)$$,
  'every function PostgREST exposes to anon, authenticated or service_role runs with jit = off');

select results_eq(
  $$select p.oid::regprocedure::text collate "default" from pg_catalog.pg_proc as p
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace)
      and not coalesce('jit=off' = any(p.proconfig), false)
      and not exists (select from pg_catalog.pg_depend as d
                      where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
                        and d.deptype = 'e')
    order by 1$$,
  $$values ('telemetry.flush_for(integer)'::text),
           ('telemetry.gps_distance_m(double precision,double precision,double precision,double precision)')$$,
  'only the committing procedure and the inlined haversine run without their own jit = off');

select results_eq(
  $$select r.rolname::text collate "default",
           coalesce('jit=off' = any(s.setconfig), false)
    from pg_catalog.pg_roles as r
    left join pg_catalog.pg_db_role_setting as s on s.setrole = r.oid and s.setdatabase = 0
    where r.rolname in ('anon', 'authenticated', 'service_role') order by 1$$,
  $$values ('anon'::text, true), ('authenticated', true), ('service_role', true)$$,
  'the roles PostgREST impersonates run with jit = off (views read without a function)');

select * from finish();
rollback;
