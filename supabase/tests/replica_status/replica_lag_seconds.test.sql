-- A standby's lag is 0 once it replayed all it received, also when its receive position is behind
-- its replay position (after a restart, until new WAL arrives); while WAL it received waits to be
-- replayed, the lag is the age of the newest transaction it replayed. On the primary
-- get_replica_status says it is not a standby, with no lag.
begin;
set local search_path = extensions, public;
select plan(5);

select is(telemetry.replica_lag_seconds('0/3000000', '0/3000000', '2026-01-01 00:00:00+00', '2026-01-01 00:01:00+00'),
  0::numeric, 'replayed all it received: no lag, however old its last transaction');
select is(telemetry.replica_lag_seconds('0/3000000', '0/30CDD98', '2026-01-01 00:00:00+00', '2026-01-01 00:01:00+00'),
  0::numeric, 'received behind replayed (a restarted standby): no lag');
select is(telemetry.replica_lag_seconds('0/30CDD98', '0/3000000', '2026-01-01 00:00:00+00', '2026-01-01 00:00:07.25+00'),
  7.25::numeric, 'WAL waiting to be replayed: the age of the newest transaction replayed');
select is(telemetry.replica_lag_seconds(null, null, null, '2026-01-01 00:00:00+00'),
  0::numeric, 'nothing received and nothing replayed: no lag');

select telemetry_tests.authenticate_as_service_role();
select is(public.get_replica_status(),
  '{"in_recovery": false, "streaming": false, "replay_paused": false, "lag_seconds": 0}'::jsonb,
  'the primary is no standby and lags nothing');
select telemetry_tests.reset_role();

select * from finish();
rollback;
