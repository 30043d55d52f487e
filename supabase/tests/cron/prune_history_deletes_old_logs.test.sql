-- The pruning job deletes flush runs and pg_cron run details older than 7 days, rejects past
-- retention and idempotency records older than a day, and keeps the recent ones.
begin;
set local search_path = extensions, public;
select plan(5);

select telemetry_tests.create_device(telemetry_tests.create_user('will@example.com')) as drone \gset
insert into telemetry.flush_runs (started_at, finished_at, rows_moved, duplicates_dropped, orphans_dropped, chunks, duration_ms, triggered_by)
values (now() - interval '8 days', now() - interval '8 days', 1, 0, 0, 1, 1, 'schedule'),
       (now() - interval '1 day', now() - interval '1 day', 1, 0, 0, 1, 1, 'schedule');
insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
values (1, -1, 0, 'postgres', 'postgres', 'select 1', 'succeeded', '1 row', now() - interval '9 days', now() - interval '9 days'),
       (1, -2, 0, 'postgres', 'postgres', 'select 1', 'succeeded', '1 row', now() - interval '1 day', now() - interval '1 day');
insert into telemetry.telemetry_rejects (device_id, received_at, reason)
values (:'drone', now() - interval '14 months', 'old'), (:'drone', now(), 'new');
insert into telemetry.ingest_requests (device_id, idempotency_key, created_at)
values (:'drone', 'old', now() - interval '2 days'), (:'drone', 'new', now());

select telemetry.prune_history();

select is_empty($$select 1 from telemetry.flush_runs where started_at < now() - interval '7 days'$$,
  'flush runs older than 7 days are deleted');
select isnt_empty($$select 1 from telemetry.flush_runs where started_at = now() - interval '1 day'$$,
  'recent flush runs are kept');
select results_eq($$select runid from cron.job_run_details where runid < 0 order by runid$$, $$values (-2::bigint)$$,
  'pg_cron run details older than 7 days are deleted, recent ones kept');
select results_eq(format('select reason from telemetry.telemetry_rejects where device_id = %L', :'drone'),
  $$values ('new'::text)$$, 'rejects past retention are deleted');
select results_eq(format('select idempotency_key from telemetry.ingest_requests where device_id = %L', :'drone'),
  $$values ('new'::text)$$, 'idempotency records older than a day are deleted, recent ones kept');

select * from finish();
rollback;
