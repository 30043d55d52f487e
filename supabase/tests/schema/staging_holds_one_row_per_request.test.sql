-- telemetry_staging holds one row per stored request (its device, receive time, frame count and
-- frames as JSON text): those columns only, frame_count bounded by frame_count_is_1_to_10000, no
-- index but the primary key, no trigger or foreign key, frames stored out of line uncompressed
-- (storage external), and a logged table so an accepted request survives a crash.
begin;
set local search_path = extensions, public;
select plan(8);

select results_eq(
  $$select a.attname::text collate "default", pg_catalog.format_type(a.atttypid, a.atttypmod) collate "default", a.attnotnull,
           a.attidentity::text collate "default", pg_catalog.pg_get_expr(d.adbin, d.adrelid) collate "default"
    from pg_catalog.pg_attribute as a
    left join pg_catalog.pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where a.attrelid = 'telemetry.telemetry_staging'::regclass and a.attnum > 0 and not a.attisdropped
    order by a.attnum$$,
  $$values ('id'::text, 'bigint'::text, true, 'a'::text, null::text),
           ('device_id', 'uuid', true, '', null),
           ('created_at', 'timestamp with time zone', true, '', 'now()'),
           ('frame_count', 'integer', true, '', null),
           ('frames', 'text', true, '', null)$$,
  'staging has the columns id (identity), device_id, created_at (default now()), frame_count and frames, all not null');
select results_eq(
  $$select c.conname::text collate "default", c.contype::text collate "default", pg_catalog.pg_get_constraintdef(c.oid) collate "default"
    from pg_catalog.pg_constraint as c
    where c.conrelid = 'telemetry.telemetry_staging'::regclass
    order by 1$$,
  $$values ('frame_count_is_1_to_10000'::text, 'c'::text, 'CHECK (((frame_count >= 1) AND (frame_count <= 10000)))'::text),
           ('telemetry_staging_pkey', 'p', 'PRIMARY KEY (id)')$$,
  'its constraints are the primary key and frame_count_is_1_to_10000, and no foreign key');
select throws_ok(
  $$insert into telemetry.telemetry_staging (device_id, frame_count, frames) values (gen_random_uuid(), 0, '[]')$$,
  '23514', null, 'a staged request of no frame is refused by frame_count_is_1_to_10000');
select throws_ok(
  $$insert into telemetry.telemetry_staging (device_id, frame_count, frames) values (gen_random_uuid(), 10001, '[]')$$,
  '23514', null, 'a staged request of more than 10000 frames is refused by frame_count_is_1_to_10000');
select results_eq(
  $$select i.indexrelid::regclass::text from pg_catalog.pg_index as i
    where i.indrelid = 'telemetry.telemetry_staging'::regclass$$,
  $$values ('telemetry.telemetry_staging_pkey')$$,
  'its only index is the primary key');
select is_empty(
  $$select t.tgname from pg_catalog.pg_trigger as t where t.tgrelid = 'telemetry.telemetry_staging'::regclass$$,
  'it has no trigger (and so no foreign key checks)');
select is(
  (select a.attstorage::text from pg_catalog.pg_attribute as a
   where a.attrelid = 'telemetry.telemetry_staging'::regclass and a.attname = 'frames'),
  'e',
  'frames is stored external: out of line, without compression');
select is(
  (select c.relpersistence::text from pg_catalog.pg_class as c where c.oid = 'telemetry.telemetry_staging'::regclass),
  'p',
  'telemetry_staging is a logged table');

select * from finish();
rollback;
