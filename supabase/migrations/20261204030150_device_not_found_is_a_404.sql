-- revoke_device and rotate_device_key raised P0002 for a device the caller does not own (or that
-- does not exist), which PostgREST answers with a 500 when the RPC is called directly
-- (POST /rest/v1/rpc/revoke_device, as any operator may). They now raise PT404, which PostgREST
-- answers with a 404 (its "PTxyz" codes set the status); the devices function maps both codes
-- to its 404 device_not_found. The bodies are unchanged otherwise; the SET clauses are kept
-- (search_path, jit = off).

/*
 * public.revoke_device(p_device_id): see 20261126000002_create_devices.sql.
 * security definer: authenticated has no UPDATE on telemetry.devices (see create_device); the
 * ownership check is done here.
 */
create or replace function public.revoke_device(p_device_id uuid)
returns table (id uuid, revoked_at timestamptz, previous_key_hash text)
language plpgsql
volatile
security definer
set search_path = ''
set jit = off
as $$
begin
  return query
  update telemetry.devices as d
  set revoked_at = coalesce(d.revoked_at, now())
  where d.id = p_device_id
    and (telemetry.is_service_role() or d.owner_id = auth.uid())
  returning d.id, d.revoked_at, d.key_hash;

  if not found then
    raise exception 'device "%" not found', p_device_id using errcode = 'PT404';
  end if;
end;
$$;

/*
 * public.rotate_device_key(p_device_id): see 20261126000002_create_devices.sql.
 * security definer: as for revoke_device, the key is generated here and the owner checked here.
 */
create or replace function public.rotate_device_key(p_device_id uuid)
returns table (
  id uuid, name text, key text, key_prefix text, created_at timestamptz, previous_key_hash text
)
language plpgsql
volatile
security definer
set search_path = ''
set jit = off
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
    raise exception 'device "%" not found or revoked', p_device_id using errcode = 'PT404';
  end if;

  return query
  update telemetry.devices as d
  set key_hash = telemetry.hash_device_key(v_key),
      key_prefix = left(v_key, 12)
  where d.id = p_device_id
  returning d.id, d.name, v_key, d.key_prefix, d.created_at, v_previous_key_hash;
end;
$$;
