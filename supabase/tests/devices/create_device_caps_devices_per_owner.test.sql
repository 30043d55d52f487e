-- create_device refuses a device beyond telemetry.settings.max_devices_per_owner devices that are
-- not revoked, for a user and for service role alike; revoking one makes room.
begin;
set local search_path = extensions, public;
select plan(5);

update telemetry.settings set max_devices_per_owner = 2;
select telemetry_tests.create_user('cap@example.com') as cap \gset
select telemetry_tests.create_user('other@example.com') as other \gset

select telemetry_tests.authenticate_as(:'cap');
select id as first_id from public.create_device('one') \gset
select public.create_device('two');
select throws_ok(
  $$select public.create_device('three')$$,
  'PGRST',
  NULL,
  'a third device is refused at a cap of two');

select telemetry_tests.authenticate_as_service_role();
select throws_ok(
  format($$select public.create_device('three', %L)$$, :'cap'),
  'PGRST',
  NULL,
  'service role is held to the owner''s cap too');
select lives_ok(
  format($$select public.create_device('theirs', %L)$$, :'other'),
  'another owner is not affected');

select telemetry_tests.authenticate_as(:'cap');
select public.revoke_device(:'first_id');
select lives_ok($$select public.create_device('three')$$, 'revoking a device makes room for one');
select telemetry_tests.reset_role();
select is(
  (select count(*)::int from telemetry.devices where owner_id = :'cap' and revoked_at is null),
  2,
  'the owner holds the cap, no more');

select * from finish();
rollback;
