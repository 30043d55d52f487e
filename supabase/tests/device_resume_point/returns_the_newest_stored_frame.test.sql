-- device_resume_point answers the device's newest recorded_at, whether that frame is still
-- staged or already flushed, only that device's, null for a device with no frames; only
-- service_role may call it.
begin;
set local search_path = extensions, public;
select plan(7);
select telemetry_tests.hold_flush_lock();

select telemetry_tests.create_user('resume@example.com') as owner \gset
select telemetry_tests.create_device(:'owner') as drone \gset
select telemetry_tests.create_device(:'owner') as other \gset

select telemetry_tests.authenticate_as_service_role();
select is(public.device_resume_point(:'drone'), null, 'a device with no frames has no resume point');

select public.ingest_telemetry(:'drone', telemetry_tests.frames(3, '2026-03-01 12:00:00+00'));
select is(public.device_resume_point(:'drone'), '2026-03-01 12:00:02+00'::timestamptz,
  'a staged frame is a resume point');

select telemetry_tests.reset_role();
select public.flush_telemetry();
select telemetry_tests.authenticate_as_service_role();
select is(public.device_resume_point(:'drone'), '2026-03-01 12:00:02+00'::timestamptz,
  'the flushed frame stays the resume point');

select public.ingest_telemetry(:'drone', telemetry_tests.frames(2, '2026-03-01 12:00:10+00'));
select is(public.device_resume_point(:'drone'), '2026-03-01 12:00:11+00'::timestamptz,
  'a newer staged frame moves the resume point past the flushed ones');

select public.ingest_telemetry(:'other', telemetry_tests.frames(1, '2026-03-02 00:00:00+00'));
select is(public.device_resume_point(:'drone'), '2026-03-01 12:00:11+00'::timestamptz,
  'another device''s frames do not count');

select telemetry_tests.reset_role();
select telemetry_tests.authenticate_as(:'owner');
select throws_ok(format('select public.device_resume_point(%L)', :'drone'), '42501', null,
  'an operator cannot call it');
select telemetry_tests.authenticate_as_anon();
select throws_ok(format('select public.device_resume_point(%L)', :'drone'), '42501', null,
  'anon cannot call it');

select * from finish();
rollback;
