-- The indexes of telemetry exist with their kind (each earns its place: see the EXPLAIN in
-- 20261126000003_create_telemetry_tables.sql); staging has only what the flush needs.
begin;
set local search_path = extensions, public;
select plan(13);

select has_index('telemetry', 'telemetry', 'idx_telemetry_by_device_id_and_recorded_at',
  array['device_id', 'recorded_at'], 'telemetry has the (device_id, recorded_at) index');
select index_is_unique('telemetry', 'telemetry', 'idx_telemetry_by_device_id_and_recorded_at',
  'the (device_id, recorded_at) index is unique: it is the dedup key');
select has_index('telemetry', 'telemetry', 'idx_telemetry_by_device_id_and_created_at',
  array['device_id', 'created_at', 'recorded_at'],
  'telemetry has the (device_id, created_at, recorded_at) index of the default query order');
select index_is_type('telemetry', 'telemetry', 'idx_telemetry_by_recorded_at', 'brin',
  'recorded_at has a BRIN index');
select index_is_type('telemetry', 'telemetry', 'idx_telemetry_by_extra', 'gin',
  'extra has a GIN index');
select has_index('telemetry', 'telemetry', 'idx_telemetry_by_device_id_and_recorded_at_where_failsafe',
  array['device_id', 'recorded_at'], 'telemetry has the failsafe index');
select is(
  (select pg_catalog.pg_get_expr(i.indpred, i.indrelid) from pg_catalog.pg_index as i
   where i.indexrelid = 'telemetry.idx_telemetry_by_device_id_and_recorded_at_where_failsafe'::regclass),
  'failsafe_active',
  'the failsafe index is partial: it holds failsafe frames only');
select is(
  (select count(*)::integer from pg_catalog.pg_index as i
   where i.indexrelid = 'telemetry.idx_telemetry_by_device_id_and_recorded_at'::regclass),
  1,
  'the dedup index is a partitioned index');
select is_empty(
  $$select p.relname from pg_catalog.pg_inherits as h
    join pg_catalog.pg_class as p on p.oid = h.inhrelid
    where h.inhparent = 'telemetry.telemetry'::regclass
      and (select count(*) from pg_catalog.pg_index as i where i.indrelid = p.oid) <> 5$$,
  'every partition has the five indexes of telemetry');
select results_eq(
  $$select i.indexrelid::regclass::text from pg_catalog.pg_index as i
    where i.indrelid = 'telemetry.telemetry_staging'::regclass$$,
  $$values ('telemetry.telemetry_staging_pkey')$$,
  'telemetry_staging has only its primary key (no unique key: duplicates are dropped by the flush)');
select is_empty(
  $$select t.tgname from pg_catalog.pg_trigger as t where t.tgrelid = 'telemetry.telemetry_staging'::regclass$$,
  'telemetry_staging has no trigger and no foreign key');
select has_index('telemetry', 'devices', 'idx_devices_by_key_hash', array['key_hash'],
  'devices are found by key hash');
select index_is_unique('telemetry', 'devices', 'idx_devices_by_key_hash', 'a key hash belongs to one device');

select * from finish();
rollback;
