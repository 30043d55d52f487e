-- read_telemetry_page's prepared statements stay bounded per session (one backend, as a pooled
-- PostgREST connection is): 2,000 pages with random `fields` sets (p_columns) prepare no new
-- statement (the projection is a parameter), each page holds exactly the columns asked for, and
-- however many shapes a session sees (here 34 orders) it keeps at most 32 prepared.
begin;
set local search_path = extensions, public;
select plan(6);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('prep@example.com') as prep \gset
select telemetry_tests.create_device(:'prep') as drone \gset
select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(5, '2026-08-03 00:00:00+00'));
select telemetry_tests.authenticate_as(:'prep');

-- 2,000 random column sets from the frame's columns (besides the always-read ones).
create temp table shapes on commit drop as
select n, array['id', 'device_id', 'flight_id', 'recorded_at', 'created_at'] || array(
         select a.attname::text from pg_catalog.pg_attribute as a
         where a.attrelid = 'telemetry.frames'::regclass and a.attnum > 5 and not a.attisdropped
           and random() < 0.5 + 0 * n -- correlated, so drawn anew for each set
         order by a.attnum) as columns
from generate_series(1, 2000) as n;
select is((select count(distinct columns)::integer from shapes), 2000,
  'the 2,000 column sets are distinct');

select is(
  (select count(*)::integer from shapes as s,
     lateral (select public.read_telemetry_page(p_columns => s.columns, p_limit => 2)) as p (page)
   where json_array_length(p.page->'data') = 2
     and (select array_agg(k order by k) from json_object_keys(p.page->'data'->0) as k)
         = (select array_agg(c order by c) from unnest(s.columns) as c)),
  2000, 'each of the 2,000 pages answers with exactly the columns asked for');
select cmp_ok(
  (select count(*)::integer from pg_catalog.pg_prepared_statements where name like 'read\_telemetry\_%'),
  '<=', 2, 'after them the session holds one page and one count statement');

-- 34 orders are 34 page shapes: the session keeps 32.
select is(
  (select count(*)::integer from (
     select a.attname from pg_catalog.pg_attribute as a
     where a.attrelid = 'telemetry.frames'::regclass and a.attnum > 5 and not a.attisdropped
       and a.atttypid <> 'jsonb'::regtype
     order by a.attnum limit 34) as o,
     lateral (select public.read_telemetry_page(p_order_by => o.attname::text)) as p (page)
   where json_array_length(p.page->'data') = 5),
  34, 'pages in 34 orders answer');
select is(
  (select count(*)::integer from pg_catalog.pg_prepared_statements where name like 'read\_telemetry\_%'),
  32, 'the session holds at most 32 prepared read statements');
select is(
  (select json_array_length(public.read_telemetry_page(p_order_by => 'recorded_at')->'data')), 5,
  'a statement evicted before is prepared again and reads every frame');

select * from finish();
rollback;
