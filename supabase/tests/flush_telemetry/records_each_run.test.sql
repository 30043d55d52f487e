-- Every flush run is logged (start, end, rows moved, duplicates, duration), except a scheduled
-- run that found nothing to move (pg_cron runs one every few seconds), and the status endpoint
-- shows the last one.
begin;
set local search_path = extensions, public;
select plan(8);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('kate@example.com')) as drone \gset
select coalesce(max(id), 0) as last_run from telemetry.flush_runs \gset

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-06-01 00:00:00+00'));
select public.ingest_telemetry(:'drone', telemetry_tests.frames(1, '2026-06-01 00:00:00+00'));
select public.flush_telemetry() as flush \gset

select is((select count(*)::integer from telemetry.flush_runs where id > :last_run), 1, 'the run is logged');
select results_eq(
  format($$select id, rows_moved, duplicates_dropped, triggered_by, finished_at >= started_at, duration_ms >= 0
           from telemetry.flush_runs where id > %s$$, :last_run),
  format($$values (%s::bigint, 3::bigint, 1::bigint, 'api'::text, true, true)$$, :'flush'::jsonb ->> 'run_id'),
  'with its counts, its trigger and its timing');
select is(
  public.get_batch_status() -> 'last_flush',
  (select jsonb_build_object('started_at', started_at, 'finished_at', finished_at, 'rows_moved', rows_moved,
                             'duplicates_dropped', duplicates_dropped, 'duration_ms', duration_ms)
   from telemetry.flush_runs where id > :last_run),
  'get_batch_status shows the last run');
select ok((:'flush'::jsonb ->> 'duration_ms')::numeric >= 0, 'the answer carries duration_ms');
select is(
  (select array_agg(k order by k) from jsonb_object_keys(:'flush'::jsonb) as k),
  array['attempts', 'chunks', 'duplicates_dropped', 'duration_ms', 'finished_at', 'orphans_dropped', 'pending_records',
        'rows_moved', 'run_id', 'set_aside', 'skipped', 'started_at'],
  'flush_telemetry answers with the documented keys');

-- Staging is empty now.
select coalesce(max(id), 0) as last_run from telemetry.flush_runs \gset
select telemetry_tests.reset_role();
select telemetry.run_flush(null, 'schedule') as idle_run \gset
select is_empty(format('select 1 from telemetry.flush_runs where id > %s', :last_run),
  'a scheduled run that moved nothing is not logged');
select is(:'idle_run'::jsonb -> 'run_id', 'null'::jsonb, 'and answers without a run_id');
select telemetry_tests.authenticate_as_service_role();
select public.flush_telemetry() as empty_flush \gset
select is((select triggered_by from telemetry.flush_runs where id > :last_run),
  'api', 'an API flush is logged even when it moved nothing');

select * from finish();
rollback;
