-- create_device returns a key once; only its SHA-256 and a prefix are stored. A user creates
-- devices for themselves only; service_role for anyone.
begin;
set local search_path = extensions, public;
select plan(8);

select telemetry_tests.create_user('pia@example.com') as pia \gset
select telemetry_tests.create_user('quinn@example.com') as quinn \gset

select telemetry_tests.authenticate_as(:'pia');
select * from public.create_device('pia drone') \gset created_

select ok(:'created_key' ~ '^dtk_[0-9a-f]{48}$', 'the key is dtk_ followed by 48 hex characters');
select is(:'created_key_prefix', left(:'created_key', 12), 'the prefix is the first 12 characters of the key');
select results_eq(
  format('select owner_id, name, key_prefix from public.devices where id = %L', :'created_id'),
  format($$values (%L::uuid, 'pia drone'::text, %L::text)$$, :'pia', :'created_key_prefix'),
  'the device belongs to the caller');
select throws_ok(format('select * from public.create_device(%L, %L)', 'not mine', :'quinn'),
  '42501', null, 'a user cannot create a device for someone else');

select telemetry_tests.reset_role();
select is(
  (select key_hash from telemetry.devices where id = :'created_id'),
  encode(extensions.digest(:'created_key', 'sha256'), 'hex'),
  'the stored hash is the SHA-256 hex of the key');
select is_empty(
  format($$select 1 from telemetry.devices as d where to_jsonb(d)::text like '%%' || %L || '%%'$$, :'created_key'),
  'the key itself is stored nowhere in devices');

select telemetry_tests.authenticate_as_service_role();
select id as fleet_drone from public.create_device('fleet drone', :'quinn') \gset
select is(
  (select d.owner_id from public.devices as d where d.id = :'fleet_drone'),
  :'quinn'::uuid,
  'service_role creates a device for any owner');
select throws_ok('select * from public.create_device(''no owner'')', '22004', null,
  'a device needs an owner');

select * from finish();
rollback;
