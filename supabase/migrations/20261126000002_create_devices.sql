-- Devices and their API keys. A key is shown once, at creation or rotation; only its SHA-256
-- (hex) is stored, with a short prefix so an operator can recognise which key a device uses.

/*
 * telemetry.devices: one row per field device (drone, ground station), owned by an auth user.
 * Read by the RLS policies of every telemetry table (ownership goes through this table).
 */
create table telemetry.devices (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references auth.users (id) on delete cascade,
  name text not null,
  key_hash text not null,
  key_prefix text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  last_seen_at timestamptz,
  constraint name_is_1_to_100_chars check (char_length(name) between 1 and 100),
  constraint key_hash_is_sha256_hex check (key_hash ~ '^[0-9a-f]{64}$'),
  constraint key_prefix_is_12_chars check (char_length(key_prefix) = 12)
);
comment on table telemetry.devices is
  'Field devices and the SHA-256 of their API key (the key itself is never stored).';

create unique index idx_devices_by_key_hash on telemetry.devices (key_hash);
create index idx_devices_by_owner_id on telemetry.devices (owner_id);

alter table telemetry.devices enable row level security;

-- authenticated reads its own devices, but never key_hash; writes go through the functions below.
grant select (id, owner_id, name, key_prefix, created_at, revoked_at, last_seen_at)
  on telemetry.devices to authenticated;
grant select, insert, update, delete on telemetry.devices to service_role;

create policy "Service role manages every device"
  on telemetry.devices for all to service_role
  using (true) with check (true);

create policy "Owners see their own devices"
  on telemetry.devices for select to authenticated
  using (owner_id = (select auth.uid()));

/*
 * public.devices: the devices the caller may see, without key_hash. security_invoker, so the
 * RLS of telemetry.devices applies: an owner sees their devices, service_role all, anon nothing.
 */
create view public.devices
with (security_invoker = true)
as
select d.id, d.owner_id, d.name, d.key_prefix, d.created_at, d.revoked_at, d.last_seen_at
from telemetry.devices as d;
comment on view public.devices is 'Devices visible to the caller (RLS), without their key hash.';

-- A simple view is auto-updatable, and Supabase's default privileges grant ALL on it: allow reads only.
revoke all on public.devices from public, anon, authenticated, service_role;
grant select on public.devices to authenticated, service_role;

/*
 * telemetry.new_device_key(): a fresh device key: 'dtk_' followed by 48 hex characters
 * (24 random bytes from pgcrypto). Called by create_device and rotate_device_key.
 */
create function telemetry.new_device_key()
returns text
language sql
volatile
set search_path = ''
as $$
  select 'dtk_' || encode(extensions.gen_random_bytes(24), 'hex')
$$;

/*
 * telemetry.hash_device_key(p_key): SHA-256 of a key, lower-case hex; the TypeScript side
 * computes the same hash of the presented key before calling authenticate_device.
 */
create function telemetry.hash_device_key(p_key text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select encode(extensions.digest(p_key, 'sha256'), 'hex')
$$;

/*
 * telemetry.is_service_role(): true when the request carries the service_role JWT.
 * The security definer functions below use it to let service_role act for any owner.
 */
create function telemetry.is_service_role()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(auth.role(), '') = 'service_role'
$$;

/*
 * public.create_device(p_name, p_owner_id): registers a device and returns its key, the only
 * time the key is ever visible. An authenticated user creates devices for themselves only;
 * service_role for any owner.
 *
 * security definer: authenticated has no write privilege on telemetry.devices, so that a client
 * can never choose a key_hash; this function generates the key itself and checks the owner.
 */
create function public.create_device(p_name text, p_owner_id uuid default auth.uid())
returns table (id uuid, name text, key text, key_prefix text, created_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_key text := telemetry.new_device_key();
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

  return query
  insert into telemetry.devices as d (owner_id, name, key_hash, key_prefix)
  values (p_owner_id, p_name, telemetry.hash_device_key(v_key), left(v_key, 12))
  returning d.id, d.name, v_key, d.key_prefix, d.created_at;
end;
$$;
comment on function public.create_device(text, uuid) is
  'Registers a device for the caller (or any owner, for service_role) and returns its key once.';
grant execute on function public.create_device(text, uuid) to authenticated, service_role;

/*
 * public.authenticate_device(p_key_hash): the device whose key has this SHA-256 hex, if it is
 * not revoked; nothing otherwise. Called by the ingest gateway for every device request, so it
 * writes last_seen_at at most once a minute per device, and never waits for a concurrent
 * request that is already updating it (skip locked).
 */
create function public.authenticate_device(p_key_hash text)
returns table (id uuid, owner_id uuid, name text)
language plpgsql
volatile
set search_path = ''
as $$
begin
  update telemetry.devices as d
  set last_seen_at = now()
  where d.id = (
    select s.id
    from telemetry.devices as s
    where s.key_hash = p_key_hash
      and s.revoked_at is null
      and (s.last_seen_at is null or s.last_seen_at < now() - interval '1 minute')
    for update skip locked
  );

  return query
  select d.id, d.owner_id, d.name
  from telemetry.devices as d
  where d.key_hash = p_key_hash
    and d.revoked_at is null;
end;
$$;
comment on function public.authenticate_device(text) is
  'Device for a key hash if not revoked; updates last_seen_at at most once a minute. service_role only.';
grant execute on function public.authenticate_device(text) to service_role;

/*
 * public.revoke_device(p_device_id): revokes a device key for good. Idempotent: revoking twice
 * keeps the first revoked_at. Owners revoke their own devices, service_role any. Returns the
 * device, when it was revoked and the hash of the key that stopped working (previous_key_hash),
 * so the `devices` function can drop that key's entry from the device-auth cache at once (the
 * cache is keyed by key hash). The hash names a key its owner held and that no longer works.
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
