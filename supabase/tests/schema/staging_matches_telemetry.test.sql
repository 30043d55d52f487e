-- telemetry_staging has the same columns, in the same order and with the same types and CHECK
-- constraints, as telemetry: the flush relies on it (insert ... select m.*).
begin;
set local search_path = extensions, public;
select plan(2);

select results_eq(
  $$select a.attnum::integer, a.attname::text collate "default", pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull
    from pg_catalog.pg_attribute as a
    where a.attrelid = 'telemetry.telemetry_staging'::regclass and a.attnum > 0 and not a.attisdropped
    order by a.attnum$$,
  $$select a.attnum::integer, a.attname::text collate "default", pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull
    from pg_catalog.pg_attribute as a
    where a.attrelid = 'telemetry.telemetry'::regclass and a.attnum > 0 and not a.attisdropped
    order by a.attnum$$,
  'staging and telemetry have the same columns in the same order'
);

select set_eq(
  $$select c.conname::text, pg_catalog.pg_get_constraintdef(c.oid)
    from pg_catalog.pg_constraint as c
    where c.conrelid = 'telemetry.telemetry_staging'::regclass and c.contype = 'c'$$,
  $$select c.conname::text, pg_catalog.pg_get_constraintdef(c.oid)
    from pg_catalog.pg_constraint as c
    where c.conrelid = 'telemetry.telemetry'::regclass and c.contype = 'c'$$,
  'staging has the CHECK constraints of telemetry, so a staged row can always be flushed'
);

select * from finish();
rollback;
