-- The maintenance drops every monthly partition past retention (12 months by default) with its
-- rows, deletes past-retention rows of the default partition, and keeps everything else.
begin;
set local search_path = extensions, public;
select plan(8);

select telemetry_tests.create_device(telemetry_tests.create_user('noah@example.com')) as drone \gset
-- An old partition (14 months back) with a frame, a frame this month, and frames in the default
-- partition from 1970 and 2100.
select telemetry.create_month_partition(now() - interval '14 months') as old_partition \gset
select telemetry.create_month_partition(now() - interval '11 months') as kept_partition \gset
insert into telemetry.telemetry (device_id, recorded_at)
values (:'drone', date_trunc('month', now() - interval '14 months') + interval '3 days'),
       (:'drone', date_trunc('month', now() - interval '11 months') + interval '3 days'),
       (:'drone', now()),
       (:'drone', '1970-01-01 00:00:00+00'),
       (:'drone', '2100-01-01 00:00:00+00');

select telemetry.maintain_partitions() as result \gset

select hasnt_table('telemetry', :'old_partition', 'the partition 14 months back is dropped');
select ok(:'result'::jsonb -> 'dropped' ? :'old_partition', 'and reported as dropped');
select has_table('telemetry', :'kept_partition', 'the partition 11 months back is kept');
select has_table('telemetry', 'telemetry_p' || to_char(now() at time zone 'UTC', 'YYYY_MM'),
  'the partition of this month is kept');
select results_eq(
  format('select recorded_at from telemetry.telemetry where device_id = %L order by 1', :'drone'),
  format($$values (%L::timestamptz), (%L::timestamptz), ('2100-01-01 00:00:00+00'::timestamptz)$$,
         date_trunc('month', now() - interval '11 months') + interval '3 days', now()),
  'frames within retention, and the future one, are kept; older ones are gone');
select is((:'result'::jsonb ->> 'default_rows_deleted')::integer, 1,
  'the 1970 frame in the default partition is deleted by the same retention');
select is(
  :'result'::jsonb ->> 'retention_cutoff',
  to_jsonb(date_trunc('month', now(), 'UTC') - interval '12 months') #>> '{}',
  'the cutoff is 12 months before the first of this month');

update telemetry.settings set retention_months = 1;
select telemetry.maintain_partitions();
select hasnt_table('telemetry', :'kept_partition', 'a shorter retention setting drops more');

select * from finish();
rollback;
