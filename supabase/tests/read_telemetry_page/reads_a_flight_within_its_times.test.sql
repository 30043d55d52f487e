-- public.read_telemetry_page with a flight: the range read is narrowed to the flight's first and
-- last frame (flushed ones from telemetry.flights, staged ones from staging), and every frame of
-- the flight is still found, flushed or staged, while other flights' frames are not.
begin;
set local search_path = extensions, public;
select plan(4);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('fay@example.com') as fay \gset
select telemetry_tests.create_device(:'fay') as drone \gset

select telemetry_tests.authenticate_as_service_role();
-- Flight f1 (5 frames, flushed), then flight f2 (4 frames, flushed), then 2 more frames of f1
-- that are still staged (late data, after f2).
select public.ingest_telemetry(:'drone', (select jsonb_agg(f || '{"flight_id": "f1"}') from jsonb_array_elements(telemetry_tests.frames(5, '2026-08-01 00:00:00+00')) as f));
select public.ingest_telemetry(:'drone', (select jsonb_agg(f || '{"flight_id": "f2"}') from jsonb_array_elements(telemetry_tests.frames(4, '2026-08-01 01:00:00+00')) as f));
select public.flush_telemetry();
select public.ingest_telemetry(:'drone', (select jsonb_agg(f || '{"flight_id": "f1"}') from jsonb_array_elements(telemetry_tests.frames(2, '2026-08-01 02:00:00+00')) as f));

select telemetry_tests.authenticate_as(:'fay');
select is(
  (select array_agg(r->>'flight_id' order by n) from json_array_elements(
     public.read_telemetry_page(p_device_id => :'drone', p_flight_id => 'f1', p_order_by => 'recorded_at',
                                p_desc => false)->'data') with ordinality as x (r, n)),
  array['f1', 'f1', 'f1', 'f1', 'f1', 'f1', 'f1'],
  'the flight''s 5 flushed and 2 staged frames are read, and none of the other flight');
select is(
  public.read_telemetry_page(p_device_id => :'drone', p_flight_id => 'f2', p_order_by => 'recorded_at')->>'count',
  '4', 'another flight of the device is read within its own times');
select is(
  public.read_telemetry_page(p_device_id => :'drone', p_flight_id => 'f1', p_order_by => 'recorded_at',
                             p_from => '2026-08-01 00:00:02+00', p_to => '2026-08-01 00:00:04+00')->>'count',
  '2', 'a window given with the flight narrows it further');
select is(
  json_array_length(public.read_telemetry_page(p_device_id => :'drone', p_flight_id => 'nope',
                                               p_order_by => 'recorded_at')->'data'),
  0, 'a flight with no frame reads nothing');

select * from finish();
rollback;
