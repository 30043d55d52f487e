-- Monthly partitions exist for the months ahead, maintenance is idempotent, and creating a month
-- whose frames already sit in the default partition moves them into it instead of failing.
begin;
set local search_path = extensions, public;
select plan(7);

select telemetry_tests.create_device(telemetry_tests.create_user('olga@example.com')) as drone \gset

select telemetry.maintain_partitions() as result \gset
select is(:'result'::jsonb -> 'created', '[]'::jsonb, 'a second run in the same month creates nothing');
select is(:'result'::jsonb -> 'dropped', '[]'::jsonb, 'and drops nothing');
select is_empty(
  $$select m from generate_series(date_trunc('month', now(), 'UTC') - interval '3 months',
                                  date_trunc('month', now(), 'UTC') + interval '3 months', interval '1 month') as m
    where to_regclass('telemetry.telemetry_p' || to_char(m at time zone 'UTC', 'YYYY_MM')) is null$$,
  'partitions exist from 3 months back to 3 months ahead');

-- Frames 10 months ahead land in the default partition until their month is created.
insert into telemetry.telemetry (device_id, recorded_at)
select :'drone', date_trunc('month', now() + interval '10 months', 'UTC') + g * interval '1 hour'
from generate_series(0, 4) as g;
select is(
  (select count(*)::integer from telemetry.telemetry where device_id = :'drone' and tableoid = 'telemetry.telemetry_default'::regclass),
  5, 'future frames wait in the default partition');

select lives_ok($$select telemetry.create_month_partition(now() + interval '10 months')$$,
  'creating their month succeeds although the default partition holds rows of it');
select is(
  (select count(*)::integer from telemetry.telemetry where device_id = :'drone'
     and tableoid = ('telemetry.telemetry_p' || to_char((now() + interval '10 months') at time zone 'UTC', 'YYYY_MM'))::regclass),
  5, 'the rows moved into the new partition');
select is(
  (select count(*)::integer from telemetry.telemetry where device_id = :'drone' and tableoid = 'telemetry.telemetry_default'::regclass),
  0, 'and left the default partition: none lost, none duplicated');

select * from finish();
rollback;
