-- public.read_telemetry_page holds every limit telemetry-query documents, since PostgREST serves
-- it to operators directly: page size, offset, count cap, and a field order only over a scope of
-- at most settings.field_order_max_frames estimated frames (flights or daily rollups plus staged
-- frames), refused past it with the cap and the estimate. The frames view is not PostgREST's to
-- serve to operators, and the roles get hosted Supabase's statement timeouts.
begin;
set local search_path = extensions, public;
select plan(16);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('lim@example.com') as lim \gset
select telemetry_tests.create_device(:'lim') as drone \gset
select telemetry_tests.authenticate_as_service_role();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(30, '2026-08-02 00:00:00+00'));
select public.flush_telemetry();
select public.ingest_telemetry(:'drone', telemetry_tests.frames(5, '2026-08-02 01:00:00+00'));
select telemetry_tests.reset_role();
-- A history the rollups count as 300,000 frames on one day, over the default cap of 200,000.
update telemetry.daily_rollups set frames = 300000 where device_id = :'drone';

select telemetry_tests.authenticate_as(:'lim');
select throws_ok($$select public.read_telemetry_page(p_limit => 10000)$$,
  '22023', 'p_limit must be from 1 to 1000, got 10000', 'a page holds at most 1,000 frames');
select throws_ok($$select public.read_telemetry_page(p_offset => 900000)$$,
  '22023', 'p_offset must be from 0 to 10000 (use p_after beyond), got 900000',
  'offset stops at 10,000');
select throws_ok($$select public.read_telemetry_page(p_count_cap => 2000000000)$$,
  '22023', 'p_count_cap must be from 0 to 1000, got 2000000000', 'the count cap stops at 1,000');
select throws_ok($$select public.read_telemetry_page(p_columns => array_fill('id'::text, array[500]))$$,
  '22023', 'p_columns names a column telemetry_frames does not have',
  'a projection of hundreds of columns is refused');
select throws_ok($$select public.read_telemetry_page(p_desc => null)$$,
  '22023', 'p_desc must be true or false', 'a null direction is refused');

select throws_ok(
  format($$select public.read_telemetry_page(p_device_id => %L, p_order_by => 'roll_degrees')$$, :'drone'),
  '22023',
  'order_by "roll_degrees" sorts every frame in scope: about 300005 frames here, the cap is 200000; narrow the scope with flight_id or from/to',
  'a field order over the whole device is refused past the cap, naming the estimate and the cap');
select throws_ok($$select public.read_telemetry_page(p_order_by => 'roll_degrees')$$,
  '22023', null, 'so is one over all the operator''s devices');
select is(
  (select telemetry.frames_in_scope(:'drone', null, '2026-08-02 00:00:00+00', '2026-08-02 01:00:00+00')),
  12505::bigint, 'a one-hour window is estimated as its share of the day, plus the staged frames');
select lives_ok(
  format($$select public.read_telemetry_page(p_device_id => %L, p_order_by => 'altitude_m',
    p_from => '2026-08-02 00:00:00+00', p_to => '2026-08-02 01:00:00+00')$$, :'drone'),
  'a time window within the cap may order by a field');
select is(
  (select json_array_length(public.read_telemetry_page(p_device_id => :'drone',
     p_flight_id => 'test-flight', p_order_by => 'altitude_m', p_limit => 1000)->'data')),
  35, 'one flight may order by a field (its frames counted by telemetry.flights)');
select is(
  (select public.read_telemetry_page(p_device_id => :'drone', p_flight_id => 'test-flight',
     p_order_by => 'altitude_m', p_desc => true, p_limit => 1)->'data'->0->>'altitude_m'),
  '130', 'the highest altitude comes first in descending order');

select telemetry_tests.reset_role();
update telemetry.settings set field_order_max_frames = 400000;
select telemetry_tests.authenticate_as(:'lim');
select lives_ok(
  format($$select public.read_telemetry_page(p_device_id => %L, p_order_by => 'roll_degrees')$$, :'drone'),
  'the cap is the setting: raised to 400,000, the whole device may be ordered by a field');

select throws_ok($$select 1 from public.telemetry_frames limit 1$$, '42501', null,
  'an operator cannot read public.telemetry_frames (PostgREST would sort it by any column)');
select is((select count(*)::integer from telemetry.frames), 35,
  'operators read their frames through read_telemetry_page (telemetry.frames, not exposed)');

select telemetry_tests.reset_role();
select results_eq(
  $$select r.rolname::text collate "default",
           (select c collate "default" from unnest(s.setconfig) as c where c like 'statement_timeout=%')
    from pg_catalog.pg_roles as r
    left join pg_catalog.pg_db_role_setting as s on s.setrole = r.oid and s.setdatabase = 0
    where r.rolname in ('anon', 'authenticated') order by 1$$,
  $$values ('anon'::text, 'statement_timeout=3s'), ('authenticated', 'statement_timeout=8s')$$,
  'anon and authenticated have hosted Supabase''s statement timeouts');
select is(has_table_privilege('service_role', 'public.telemetry_frames', 'select'), true,
  'service role still reads public.telemetry_frames');

select * from finish();
rollback;
