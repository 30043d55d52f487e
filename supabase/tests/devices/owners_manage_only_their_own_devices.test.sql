-- Owners revoke and rotate only their own devices; rotation replaces the key at once; a revoked
-- device cannot be rotated; revoking twice keeps the first time.
begin;
set local search_path = extensions, public;
select plan(8);

select telemetry_tests.create_user('sam@example.com') as sam \gset
select telemetry_tests.create_user('tess@example.com') as tess \gset
select telemetry_tests.authenticate_as(:'sam');
select * from public.create_device('sam drone') \gset created_

select telemetry_tests.authenticate_as(:'tess');
select throws_ok(format('select * from public.revoke_device(%L)', :'created_id'), 'PT404', null,
  'another user cannot revoke the device');
select throws_ok(format('select * from public.rotate_device_key(%L)', :'created_id'), 'PT404', null,
  'another user cannot rotate its key');
select throws_ok('update telemetry.devices set revoked_at = now()', '42501', null,
  'no user can update devices directly');

select telemetry_tests.authenticate_as(:'sam');
select * from public.rotate_device_key(:'created_id') \gset rotated_
select isnt(:'rotated_key'::text, :'created_key'::text, 'rotation returns a new key');
select telemetry_tests.authenticate_as_service_role();
select is_empty(
  format('select 1 from public.authenticate_device(%L)', encode(extensions.digest(:'created_key', 'sha256'), 'hex')),
  'the old key stops working');
select isnt_empty(
  format('select 1 from public.authenticate_device(%L)', encode(extensions.digest(:'rotated_key', 'sha256'), 'hex')),
  'the new key works');

select telemetry_tests.authenticate_as(:'sam');
select revoked_at as first_revoked_at from public.revoke_device(:'created_id') \gset
select is((select revoked_at from public.revoke_device(:'created_id')), :'first_revoked_at'::timestamptz,
  'revoking twice keeps the first revoked_at');
select throws_ok(format('select * from public.rotate_device_key(%L)', :'created_id'), 'PT404', null,
  'a revoked device cannot be rotated');

select * from finish();
rollback;
