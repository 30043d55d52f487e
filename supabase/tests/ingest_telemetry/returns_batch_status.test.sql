-- ingest_telemetry stores a request's frames as one staging row and returns
-- {accepted, pending_records, batch_size, batch_full}; a frame without recorded_at gets its
-- receive time; unknown keys go nowhere but extra; bad requests are refused and store nothing.
begin;
set local search_path = extensions, public;
select plan(11);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_device(telemetry_tests.create_user('erin@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
select is(
  public.ingest_telemetry(:'drone', telemetry_tests.frames(3)),
  jsonb_build_object('accepted', 3, 'pending_records', 3, 'batch_size', 500, 'batch_full', false),
  'ingest returns accepted, pending_records, batch_size and batch_full');

select is(
  public.ingest_telemetry(:'drone', $$[{"altitude_m": 12.5, "armed": true, "gps_latitude": 52.520008,
    "motor1_pwm": 1500, "flight_mode": "LOITER", "extra": {"esc_temp": 41}, "not_a_column": 1}]$$) ->> 'accepted',
  '1',
  'a frame without recorded_at is accepted');
select results_eq(
  format($$select id is null, recorded_at = created_at, created_at = now(), altitude_m, armed, gps_latitude,
                  motor1_pwm, flight_mode, extra
           from public.telemetry_frames where device_id = %L and flight_id is null$$, :'drone'),
  $$values (true, true, true, 12.5::real, true, 52.520008::double precision, 1500, 'LOITER'::text,
            '{"esc_temp": 41}'::jsonb)$$,
  'staged (no id yet), its recorded_at is the receive time, and every field keeps its type and value');
select results_eq(
  format($$select frame_count from telemetry.telemetry_staging where device_id = %L order by id$$, :'drone'),
  $$values (3), (1)$$,
  'each request is one staging row counting its frames');
select is(
  public.ingest_telemetry(:'drone', '[]') ->> 'accepted',
  '0',
  'an empty request is accepted with nothing stored');

select throws_ok(format('select public.ingest_telemetry(%L, %L)', :'drone', '{"altitude_m": 1}'),
  '22023', 'p_frames must be a JSON array, got object', 'a non-array body is refused');
select throws_ok(format('select public.ingest_telemetry(%L, %L)', gen_random_uuid(), '[]'),
  'P0002', null, 'an unknown device is refused');
select throws_ok(
  format('select public.ingest_telemetry(%L, %L)', :'drone', (select jsonb_agg('{}'::jsonb) from generate_series(1, 10001))),
  '22023', 'p_frames holds 10001 frames, at most 10000 are allowed per request',
  'more than 10000 frames in one request are refused');
select lives_ok(
  format('select public.ingest_telemetry(%L, %L)', :'drone',
    (select jsonb_agg(jsonb_build_object('recorded_at', '2026-01-01'::timestamptz + g * interval '1 second'))
     from generate_series(1, 10000) as g)),
  'exactly 10000 frames in one request are accepted');

select telemetry_tests.reset_role();
update telemetry.devices set revoked_at = now() where id = :'drone';
select telemetry_tests.authenticate_as_service_role();
select throws_ok(format('select public.ingest_telemetry(%L, %L)', :'drone', telemetry_tests.frames(1)),
  'P0002', null, 'a revoked device is refused');
select is(
  (select coalesce(sum(frame_count), 0)::integer from telemetry.telemetry_staging where device_id = :'drone'),
  10004,
  'refused requests stored nothing');

select * from finish();
rollback;
