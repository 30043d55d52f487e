-- authenticate_device returns the device of a key hash unless revoked, and writes last_seen_at
-- at most once a minute.
begin;
set local search_path = extensions, public;
select plan(7);

select telemetry_tests.create_user('rita@example.com') as rita \gset
select telemetry_tests.authenticate_as_service_role();
select * from public.create_device('rita drone', :'rita') \gset created_
select encode(extensions.digest(:'created_key', 'sha256'), 'hex') as key_hash \gset

select results_eq(
  format('select id, owner_id, name from public.authenticate_device(%L)', :'key_hash'),
  format($$values (%L::uuid, %L::uuid, 'rita drone'::text)$$, :'created_id', :'rita'),
  'a valid key hash returns its device');
select is((select last_seen_at from public.devices where id = :'created_id'), now(), 'and marks it seen');
select is_empty(
  format('select 1 from public.authenticate_device(%L)', encode(extensions.digest('dtk_wrong', 'sha256'), 'hex')),
  'an unknown key hash returns nothing');

update telemetry.devices set last_seen_at = now() - interval '30 seconds' where id = :'created_id';
select public.authenticate_device(:'key_hash');
select is((select last_seen_at from public.devices where id = :'created_id'), now() - interval '30 seconds',
  'a device seen less than a minute ago is not written again');
update telemetry.devices set last_seen_at = now() - interval '2 minutes' where id = :'created_id';
select public.authenticate_device(:'key_hash');
select is((select last_seen_at from public.devices where id = :'created_id'), now(),
  'a device seen more than a minute ago is marked seen again');

select telemetry_tests.authenticate_as(:'rita');
select public.revoke_device(:'created_id');
select telemetry_tests.authenticate_as_service_role();
select is_empty(format('select 1 from public.authenticate_device(%L)', :'key_hash'),
  'a revoked device is not authenticated');
select isnt((select revoked_at from public.devices where id = :'created_id'), null, 'revoked_at is set');

select * from finish();
rollback;
