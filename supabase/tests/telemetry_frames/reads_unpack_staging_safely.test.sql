-- Every read of staging unpacks it through telemetry.staged_frames, so a staged request that
-- Postgres refuses (a poison request) hides instead of failing the read; only the flush, which
-- must see the error to set the request aside, and staged_frames itself cast staged text.
begin;
set local search_path = extensions, public;
select plan(2);

select is_empty(
  $$
    select p.oid::regprocedure::text
    from pg_catalog.pg_proc as p
    join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
    where n.nspname in ('public', 'telemetry')
      and p.prosrc like '%frames::telemetry.frame_values[]%'
      and p.proname not in ('staged_frames', 'move_requests')
  $$,
  'No function but the flush''s move and staged_frames casts staged text itself'
);

select ok(
  pg_catalog.pg_get_viewdef('telemetry.frames'::regclass) like '%staged_frames%',
  'telemetry.frames unpacks staging through telemetry.staged_frames'
);

select * from finish();
rollback;
