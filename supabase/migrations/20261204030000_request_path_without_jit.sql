-- No JIT on the request path (issue 15 §4).
--
-- A request's SQL is cheap (an index read of one page, a staged insert), but a generic plan's
-- estimate can cross jit_above_cost when the table grows: on main, an operator's page over a
-- 3M-frame device spent 1.52 s of 1.55 s compiling the generic plan of read_telemetry_page, whose
-- parameterised LIMIT the planner guesses at a tenth of the rows. A plan of a few thousand rows
-- never pays back a JIT compile, so every function in public and telemetry runs with jit = off:
-- the API's RPCs (pages, exports, analytics, ingest, flush, device auth, resume point, monitor)
-- and what they call. A SET clause on the entry point covers everything nested in it as well.
--
-- Kept without it (the pgTAP test privileges/request_functions_run_without_jit lists the same):
-- - telemetry.gps_distance_m: inlined per flushed frame; a SET clause would stop the inlining
--   (the flush that calls it runs with jit = off);
-- - telemetry.flush_for: a procedure that commits, which a SET clause forbids (pg_cron calls it;
--   each run_flush it calls sets jit = off).
--
-- Views read straight through PostgREST (devices, flights, rollups, telemetry_frames) have no
-- function to carry the setting, so the roles PostgREST impersonates get jit = off too
-- (PostgREST applies the impersonated role's settings in each request's transaction).
--
-- `alter function` keeps each body; a later `create or replace` drops the SET clause, and the
-- test then fails until the new definition says `set jit = off`.
do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure
    from pg_catalog.pg_proc as p
    where p.pronamespace in ('public'::regnamespace, 'telemetry'::regnamespace)
      and p.prokind = 'f'
      and p.oid <> 'telemetry.gps_distance_m(double precision, double precision, double precision, double precision)'::regprocedure
      -- pg_cron's own functions live in public on Debian's package; they are not the API's.
      and not exists (select from pg_catalog.pg_depend as d
                      where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
                        and d.deptype = 'e')
  loop
    execute format('alter function %s set jit = off', v_function);
  end loop;
end;
$$;

alter role anon set jit = off;
alter role authenticated set jit = off;
alter role service_role set jit = off;

-- PostgREST reads the role settings when it loads its config.
notify pgrst, 'reload config';
