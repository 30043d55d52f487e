-- How far a read replica is behind its primary, asked of the replica itself through its own
-- Data API endpoint: the functions read through a replica only while it answers this with a lag
-- under REPLICA_MAX_LAG_SECONDS (shared/platform/replica.ts), and health says why when not.

/*
 * public.get_replica_status(): this database's replication state, for service role.
 * - in_recovery: a standby (false on the primary, or on a replica that was promoted);
 * - streaming: its WAL receiver is connected to the primary (a standby cut off from it cannot
 *   know how far behind it is);
 * - replay_paused: replay was paused (pg_wal_replay_pause());
 * - lag_seconds: 0 when it has replayed all the WAL it received, else the age of the newest
 *   transaction it replayed. The primary commits at least every 10 s (the flush's pg_cron run),
 *   so a standby that stops replaying shows a lag that keeps growing.
 * Security definer because pg_stat_wal_receiver shows its status only to superusers and
 * pg_read_all_stats; the function returns those four figures and nothing else of it.
 */
create function public.get_replica_status()
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
      when pg_catalog.pg_last_wal_receive_lsn() is not distinct from pg_catalog.pg_last_wal_replay_lsn()
        then 0
      else round(extract(epoch from
        pg_catalog.clock_timestamp() - pg_catalog.pg_last_xact_replay_timestamp())::numeric, 3)
    end
  )
$$;
comment on function public.get_replica_status() is
  'Replication state of this database (in_recovery, streaming, replay_paused, lag_seconds): asked of a read replica before reads go to it. Service role.';

revoke all on function public.get_replica_status() from public, anon, authenticated;
grant execute on function public.get_replica_status() to service_role;
