-- The pg_cron jobs of the pipeline are registered: the flush (every 10 seconds where pg_cron
-- >= 1.5 supports it, else every minute), the daily partition maintenance and history pruning.
begin;
set local search_path = extensions, public;
select plan(4);
select telemetry_tests.hold_flush_lock();

select results_eq(
  $$select jobname::text collate "default", command, database::text collate "default", active from cron.job
    where jobname in ('telemetry-flush', 'telemetry-partition-maintenance', 'telemetry-prune-history')
    order by jobname$$,
  $$values ('telemetry-flush'::text, 'select telemetry.run_flush(null, ''schedule'')'::text, 'postgres'::text, true),
           ('telemetry-partition-maintenance', 'select telemetry.maintain_partitions()', 'postgres', true),
           ('telemetry-prune-history', 'select telemetry.prune_history()', 'postgres', true)$$,
  'the flush, maintenance and pruning jobs are registered and active');
select is(
  (select schedule from cron.job where jobname = 'telemetry-flush'),
  case when string_to_array(split_part((select extversion from pg_extension where extname = 'pg_cron'), '-', 1), '.')::integer[]
            >= array[1, 5]
       then '10 seconds' else '* * * * *' end,
  'the flush schedule matches the installed pg_cron version');
select is((select schedule from cron.job where jobname = 'telemetry-partition-maintenance'), '17 3 * * *',
  'partition maintenance runs daily');
select is((select schedule from cron.job where jobname = 'telemetry-prune-history'), '47 3 * * *',
  'history pruning runs daily');

select * from finish();
rollback;
