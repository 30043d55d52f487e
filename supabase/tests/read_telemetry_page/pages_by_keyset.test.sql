-- public.read_telemetry_page: a user reads only their devices' frames (staged and flushed), pages
-- by keyset without overlap or gap, counts exactly up to the cap, and anon cannot call it.
begin;
set local search_path = extensions, public;
select plan(9);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('ana@example.com') as ana \gset
select telemetry_tests.create_user('ben@example.com') as ben \gset
select telemetry_tests.create_device(:'ana') as drone_a \gset
select telemetry_tests.create_device(:'ana') as drone_b \gset
select telemetry_tests.create_device(:'ben') as drone_c \gset

select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone_a', telemetry_tests.frames(4, '2026-08-01 00:00:00+00'));
select public.flush_telemetry();
-- Staged, not flushed: still read.
select public.ingest_telemetry(:'drone_b', telemetry_tests.frames(3, '2026-08-01 00:00:00.5+00'));
select public.ingest_telemetry(:'drone_c', telemetry_tests.frames(5, '2026-08-01 00:00:00+00'));

select telemetry_tests.authenticate_as(:'ana');
select is(
  (select count(*)::integer from json_array_elements(
     public.read_telemetry_page(p_order_by => 'recorded_at', p_limit => 100)->'data') as r
   where (r->>'device_id')::uuid not in (:'drone_a', :'drone_b')),
  0, 'a user reads only the frames of their own devices');
select is(
  public.read_telemetry_page(p_order_by => 'recorded_at')->>'count', '7',
  'the count covers both of their devices, flushed and staged');
select is(
  public.read_telemetry_page(p_order_by => 'recorded_at')->>'count_method', 'exact',
  'under the cap the count is exact');
select is(
  public.read_telemetry_page(p_order_by => 'recorded_at', p_count_cap => 5)->>'count_method',
  'estimated', 'over the cap the count is estimated');

-- Three pages of 3 by keyset give the 7 frames in the same order as one page of 7.
create temp table pages on commit drop as
with recursive walk (n, page) as (
  select 1, public.read_telemetry_page(p_order_by => 'recorded_at', p_desc => false, p_limit => 3)
  union all
  select n + 1, public.read_telemetry_page(p_order_by => 'recorded_at', p_desc => false,
    p_limit => 3, p_after => (page->'next')::jsonb)
  from walk where json_typeof(page->'next') = 'array' and n < 5
)
select n, r.ordinality as i, r.value->>'device_id' as device_id, r.value->>'recorded_at' as recorded_at
from walk, json_array_elements(page->'data') with ordinality as r;
select is((select max(n)::integer from pages), 3, 'seven frames make three pages of three');
select results_eq(
  $$select device_id, recorded_at from pages order by n, i$$,
  $$select r->>'device_id', r->>'recorded_at' from json_array_elements(
      public.read_telemetry_page(p_order_by => 'recorded_at', p_desc => false, p_limit => 7)->'data') as r$$,
  'keyset pages neither overlap nor skip');

select throws_ok(
  $$select public.read_telemetry_page(p_order_by => 'owner_id')$$,
  '22023', 'p_order_by must be a column of telemetry_frames, got owner_id',
  'an unknown order column is refused');

select telemetry_tests.authenticate_as(:'ben');
select is(
  public.read_telemetry_page(p_device_id => :'drone_a')->>'count', '0',
  'another tenant''s device reads as empty');

select telemetry_tests.authenticate_as_anon();
select throws_ok(
  $$select public.read_telemetry_page()$$,
  '42501', null, 'anon cannot call it');

select * from finish();
rollback;
