-- No function of public or telemetry is executable by PUBLIC (each has explicit grants); every function
-- pins search_path to ''; security definer is used only where a comment says why.
begin;
set local search_path = extensions, public;
select plan(3);

select is_empty(
  $$select p.oid::regprocedure::text
    from pg_catalog.pg_proc as p, pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) as a
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace)
      and a.grantee = 0 and a.privilege_type = 'EXECUTE'$$,
  'no function is executable by PUBLIC');

select is_empty(
  $$select p.oid::regprocedure::text from pg_catalog.pg_proc as p
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace)
      and not coalesce('search_path=""' = any(p.proconfig), false)$$,
  'every function sets search_path = ''''');

select results_eq(
  $$select p.proname::text collate "default" from pg_catalog.pg_proc as p
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace) and p.prosecdef
    order by 1$$,
  $$values ('create_device'), ('get_batch_status'), ('get_settings'), ('get_slow_queries'),
           ('revoke_device'), ('rotate_device_key')$$,
  'security definer is limited to the functions that document why');

select * from finish();
rollback;
