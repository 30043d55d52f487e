-- Every table of the telemetry schema and every view of the API exists, telemetry is partitioned
-- and has its default partition.
begin;
set local search_path = extensions, public;
select plan(20);

select has_schema('telemetry', 'the private telemetry schema exists');
select has_table('telemetry', 'telemetry', 'telemetry.telemetry exists');
select is_partitioned('telemetry', 'telemetry', 'telemetry.telemetry is partitioned');
select is_partition_of('telemetry', 'telemetry_default', 'telemetry', 'telemetry',
  'telemetry_default is a partition of telemetry');
select is(
  (select pg_catalog.pg_get_expr(c.relpartbound, c.oid) from pg_catalog.pg_class as c
   where c.oid = 'telemetry.telemetry_default'::regclass),
  'DEFAULT',
  'telemetry_default is the DEFAULT partition');
select has_table('telemetry', 'telemetry_staging', 'telemetry.telemetry_staging exists');
select has_table('telemetry', 'devices', 'telemetry.devices exists');
select has_table('telemetry', 'telemetry_rejects', 'telemetry.telemetry_rejects exists');
select has_table('telemetry', 'settings', 'telemetry.settings exists');
select has_table('telemetry', 'flush_runs', 'telemetry.flush_runs exists');
select has_table('telemetry', 'hourly_rollups', 'telemetry.hourly_rollups exists');
select has_table('telemetry', 'daily_rollups', 'telemetry.daily_rollups exists');
select has_view('public', 'telemetry_frames', 'public.telemetry_frames exists');
select has_view('public', 'devices', 'public.devices exists');
select has_view('public', 'telemetry_rejects', 'public.telemetry_rejects exists');
select has_view('public', 'telemetry_hourly_rollups', 'public.telemetry_hourly_rollups exists');
select has_view('public', 'telemetry_daily_rollups', 'public.telemetry_daily_rollups exists');
select is(
  (select c.relpersistence::text from pg_catalog.pg_class as c where c.oid = 'telemetry.telemetry_staging'::regclass),
  'p',
  'telemetry_staging is a logged table, so an accepted frame survives a crash');
select columns_are('telemetry', 'devices',
  array['id', 'owner_id', 'name', 'key_hash', 'key_prefix', 'created_at', 'revoked_at', 'last_seen_at'],
  'devices has its columns, and no column for the key itself');
select columns_are('telemetry', 'telemetry_rejects',
  array['id', 'device_id', 'received_at', 'line_number', 'raw_text', 'raw_length', 'reason'],
  'telemetry_rejects has its columns');

select * from finish();
rollback;
