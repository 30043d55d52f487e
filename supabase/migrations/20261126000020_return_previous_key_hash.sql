-- revoke_device and rotate_device_key also return the SHA-256 of the key that stopped working, so
-- the `devices` function can drop that key's entry from the device-auth cache at once (the cache
-- is keyed by key hash, and a client never sees the hash otherwise). Everything else about the
-- two functions is unchanged. The return type changes, so each is dropped and created again, and
-- its comment and grant are given again.
--
-- The hash returned belongs to a key the caller owned and that no longer works; handing it to
-- its owner tells them nothing they could use.

drop function public.revoke_device(uuid);

/*
 * public.revoke_device(p_device_id): revokes a device key for good. Idempotent: revoking twice
 * keeps the first revoked_at. Owners revoke their own devices, service_role any. Returns the
 * device, when it was revoked and the hash of the key that stopped working (previous_key_hash).
 *
 * security definer: authenticated has no UPDATE on telemetry.devices (see create_device); the
 * ownership check is done here.
 */
create function public.revoke_device(p_device_id uuid)
returns table (id uuid, revoked_at timestamptz, previous_key_hash text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return query
  update telemetry.devices as d
  set revoked_at = coalesce(d.revoked_at, now())
  where d.id = p_device_id
    and (telemetry.is_service_role() or d.owner_id = auth.uid())
  returning d.id, d.revoked_at, d.key_hash;

  if not found then
    raise exception 'device "%" not found', p_device_id using errcode = 'P0002';
  end if;
end;
$$;
comment on function public.revoke_device(uuid) is 'Revokes a device the caller owns (service_role: any).';
grant execute on function public.revoke_device(uuid) to authenticated, service_role;

drop function public.rotate_device_key(uuid);

/*
 * public.rotate_device_key(p_device_id): replaces the key of a device that is not revoked and
 * returns the new key once; the old key stops working at once. previous_key_hash is the hash of
 * the old key, read under the row lock the update takes, so a concurrent rotation cannot make it
 * name a key other than the one this call replaced.
 *
 * security definer: as for revoke_device, the key is generated here and the owner checked here.
 */
create function public.rotate_device_key(p_device_id uuid)
returns table (
  id uuid, name text, key text, key_prefix text, created_at timestamptz, previous_key_hash text
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_key text := telemetry.new_device_key();
  v_previous_key_hash text;
begin
  -- GUARD: the device exists, is not revoked and the caller may rotate it; lock it
  select d.key_hash into v_previous_key_hash
  from telemetry.devices as d
  where d.id = p_device_id
    and d.revoked_at is null
    and (telemetry.is_service_role() or d.owner_id = auth.uid())
  for update;

  if not found then
    raise exception 'device "%" not found or revoked', p_device_id using errcode = 'P0002';
  end if;

  return query
  update telemetry.devices as d
  set key_hash = telemetry.hash_device_key(v_key),
      key_prefix = left(v_key, 12)
  where d.id = p_device_id
  returning d.id, d.name, v_key, d.key_prefix, d.created_at, v_previous_key_hash;
end;
$$;
comment on function public.rotate_device_key(uuid) is
  'Gives a device the caller owns a new key and returns it once (service_role: any device).';
grant execute on function public.rotate_device_key(uuid) to authenticated, service_role;
