-- Row level security is on for every table of the telemetry schema (partitions included), and
-- every API view runs with the caller's privileges (security_invoker), so RLS applies through it.
begin;
set local search_path = extensions, public;
select plan(3);

select is_empty(
  $$select c.relname from pg_catalog.pg_class as c
    where c.relnamespace = 'telemetry'::regnamespace and c.relkind in ('r', 'p') and not c.relrowsecurity$$,
  'every table in the telemetry schema has RLS enabled');

select cmp_ok(
  (select count(*)::integer from pg_catalog.pg_class as c
   where c.relnamespace = 'telemetry'::regnamespace and c.relkind in ('r', 'p')),
  '>=', 16,
  'the check above covered the tables and the partitions');

select is_empty(
  $$select c.relname from pg_catalog.pg_class as c
    where c.relnamespace = 'public'::regnamespace and c.relkind = 'v'
      and not coalesce(c.reloptions @> array['security_invoker=true'], false)$$,
  'every public view is security_invoker');

select * from finish();
rollback;
