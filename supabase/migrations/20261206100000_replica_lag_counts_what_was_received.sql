-- A standby that has replayed all the WAL it received lags 0 s, also when its receive position
-- is behind its replay position, as it is after the standby restarts: pg_last_wal_receive_lsn()
-- then starts at the beginning of the WAL segment streaming resumed from, behind what was already
-- replayed, until new WAL arrives. get_replica_status compared the two for equality, found them
-- unequal and reported the age of the last replayed transaction instead: on a quiet primary a lag
-- that grew past REPLICA_MAX_LAG_SECONDS and kept reads off a caught-up replica until the
-- primary's next commit (health showed it reach 16.7 s; tests/replica/replica_faults_test.ts
-- failed 5 runs in 41 waiting for reads to come back, none in 30 after this).

/*
 * telemetry.replica_lag_seconds(received, replayed, last_replayed_at, at): how far behind a
 * standby is, from its receive and replay positions and the commit time of the newest transaction
 * it replayed: 0 when it replayed all it received, else that transaction's age at `at`.
 */
create function telemetry.replica_lag_seconds(
  received pg_lsn,
  replayed pg_lsn,
  last_replayed_at timestamptz,
  at timestamptz
)
returns numeric
language sql
immutable
set search_path = ''
set jit = off
as $$
  select case
    when received is not distinct from replayed or received < replayed then 0
    else round(extract(epoch from at - last_replayed_at)::numeric, 3)
  end
$$;
comment on function telemetry.replica_lag_seconds(pg_lsn, pg_lsn, timestamptz, timestamptz) is
  'A standby''s replay lag in seconds: 0 when it replayed all the WAL it received, else the age at `at` of the newest transaction it replayed.';
revoke all on function telemetry.replica_lag_seconds(pg_lsn, pg_lsn, timestamptz, timestamptz)
  from public, anon, authenticated, service_role;

create or replace function public.get_replica_status()
returns jsonb
language sql
stable
security definer
set search_path = ''
set jit = off
as $$
  select jsonb_build_object(
    'in_recovery', pg_catalog.pg_is_in_recovery(),
    'streaming', exists (
      select 1 from pg_catalog.pg_stat_wal_receiver as r where r.status = 'streaming'
    ),
    'replay_paused', case
      when pg_catalog.pg_is_in_recovery() then pg_catalog.pg_is_wal_replay_paused()
      else false
    end,
    'lag_seconds', case
      when not pg_catalog.pg_is_in_recovery() then 0
      else telemetry.replica_lag_seconds(
        pg_catalog.pg_last_wal_receive_lsn(),
        pg_catalog.pg_last_wal_replay_lsn(),
        pg_catalog.pg_last_xact_replay_timestamp(),
        pg_catalog.clock_timestamp()
      )
    end
  )
$$;
