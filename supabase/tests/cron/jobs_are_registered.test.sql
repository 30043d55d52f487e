-- The pg_cron jobs of the pipeline are registered: the flush (from pg_cron 1.5 one run_flush
-- every 3 seconds; on pg_cron 1.4, which schedules at most once a minute, a minutely call of the
-- procedure telemetry.flush_for(50)), the daily partition maintenance and history pruning.
begin;
set local search_path = extensions, public;
select plan(6);
select telemetry_tests.hold_flush_lock();

select (string_to_array(split_part((select extversion from pg_extension where extname = 'pg_cron'), '-', 1), '.')::integer[]
        >= array[1, 5]) as interval_schedules \gset

select results_eq(
  $$select jobname::text collate "default", database::text collate "default", active from cron.job
    where jobname in ('telemetry-flush', 'telemetry-partition-maintenance', 'telemetry-prune-history')
    order by jobname$$,
  $$values ('telemetry-flush'::text, 'postgres'::text, true),
           ('telemetry-partition-maintenance', 'postgres', true),
           ('telemetry-prune-history', 'postgres', true)$$,
  'the flush, maintenance and pruning jobs are registered in the postgres database and active');
select is(
  (select schedule || ' | ' || command from cron.job where jobname = 'telemetry-flush'),
  case when :'interval_schedules'::boolean
       then '3 seconds | select telemetry.run_flush(null, ''schedule'')'
       else '* * * * * | call telemetry.flush_for(50)' end,
  'the flush job''s schedule and command match the installed pg_cron version');
select is(telemetry.flush_schedule(), (select schedule from cron.job where jobname = 'telemetry-flush'),
  'telemetry.flush_schedule() names the schedule the flush job has');
select has_function('telemetry', 'flush_for', array['integer'],
  'the procedure the pg_cron 1.4 job calls exists');
select is((select schedule || ' | ' || command from cron.job where jobname = 'telemetry-partition-maintenance'),
  '17 3 * * * | select telemetry.maintain_partitions()',
  'partition maintenance runs daily');
select is((select schedule || ' | ' || command from cron.job where jobname = 'telemetry-prune-history'),
  '47 3 * * * | select telemetry.prune_history()',
  'history pruning runs daily');

select * from finish();
rollback;
