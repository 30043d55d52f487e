-- A cap on the devices one operator holds (issue 21 §4): each device has its own per-device
-- quotas, so without a cap an operator multiplies them at will. Enforced here, in
-- public.create_device, because PostgREST exposes that function to every signed-in user
-- (POST /rest/v1/rpc/create_device), not only through the `devices` function.

alter table telemetry.settings
  add column max_devices_per_owner integer not null default 100,
  add constraint max_devices_per_owner_is_positive check (max_devices_per_owner > 0);
comment on column telemetry.settings.max_devices_per_owner is
  'Devices (not revoked) one owner may hold; create_device refuses more with HTTP 429.';

/*
 * public.create_device(p_name, p_owner_id): as before (20261126000002_create_devices.sql), and
 * refuses a device beyond telemetry.settings.max_devices_per_owner devices that are not revoked
 * for the owner, with HTTP 429 device_limit_reached and Retry-After (raised as PostgREST's
 * PGRST error, so a direct PostgREST caller gets the same status and header). Revoking a device
 * frees its place. A per-owner advisory lock makes the count and the insert one step, so
 * concurrent calls cannot pass the cap together.
 *
 * security definer: authenticated has no write privilege on telemetry.devices, so that a client
 * can never choose a key_hash; this function generates the key itself and checks the owner.
 */
create or replace function public.create_device(p_name text, p_owner_id uuid default auth.uid())
returns table (id uuid, name text, key text, key_prefix text, created_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_key text := telemetry.new_device_key();
  v_cap integer;
  v_held integer;
begin
  -- GUARD: who may own the device
  if p_owner_id is null then
    raise exception 'create_device needs an owner: sign in or pass p_owner_id'
      using errcode = '22004';
  end if;
  if not telemetry.is_service_role() and p_owner_id is distinct from auth.uid() then
    raise exception 'create_device may only create devices for the signed-in user'
      using errcode = '42501';
  end if;

  -- GUARD: the owner's device cap
  perform pg_advisory_xact_lock(hashtextextended('telemetry.create_device:' || p_owner_id, 0));
  select s.max_devices_per_owner into v_cap from telemetry.settings as s;
  select count(*) into v_held
  from telemetry.devices as d
  where d.owner_id = p_owner_id and d.revoked_at is null;
  if v_held >= v_cap then
    raise sqlstate 'PGRST' using
      message = json_build_object(
        'code', 'device_limit_reached',
        'message', format(
          'Owner holds %s devices, the most allowed (max_devices_per_owner); revoke one first',
          v_held
        ),
        'details', format('limit %s, devices %s', v_cap, v_held),
        'hint', 'Revoke a device, or raise telemetry.settings.max_devices_per_owner'
      )::text,
      detail = json_build_object(
        'status', 429,
        'headers', json_build_object('Retry-After', '3600')
      )::text;
  end if;

  return query
  insert into telemetry.devices as d (owner_id, name, key_hash, key_prefix)
  values (p_owner_id, p_name, telemetry.hash_device_key(v_key), left(v_key, 12))
  returning d.id, d.name, v_key, d.key_prefix, d.created_at;
end;
$$;
comment on function public.create_device(text, uuid) is
  'Registers a device for the caller (or any owner, for service_role) and returns its key once; '
  'refuses more than telemetry.settings.max_devices_per_owner devices per owner (HTTP 429).';
