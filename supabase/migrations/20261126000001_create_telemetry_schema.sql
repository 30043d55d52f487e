-- The private schema that holds every telemetry table, the privileges baseline, and the
-- settings the pipeline reads (batch size, retries, retention).
--
-- Clients never see this schema through PostgREST (config.toml exposes only `public`); they
-- reach it through the views and RPCs in `public` created by the following migrations.

-- Functions are executable by PUBLIC by default, and Supabase's default privileges also grant
-- every new function in `public` to anon, authenticated and service_role. Turn both off for the
-- functions the migration role creates from here on: each function below is followed by its own
-- explicit GRANT. (The PUBLIC revoke must be global: a per-schema REVOKE cannot take back a
-- global default, see the ALTER DEFAULT PRIVILEGES notes.)
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated, service_role;

create schema telemetry;
comment on schema telemetry is
  'Private tables of the drone telemetry pipeline; the API surface lives in public.';

revoke all on schema telemetry from public;
-- authenticated needs USAGE because the public views are security_invoker: a query through them
-- touches telemetry.* with the caller's privileges, and RLS then filters rows by owner.
grant usage on schema telemetry to authenticated, service_role;

/*
 * telemetry.settings: one row of pipeline settings. The flush reads batch_size, the partition
 * maintenance reads retention_months and months_ahead, the config endpoint reads them all through
 * public.get_settings().
 */
create table telemetry.settings (
  id boolean primary key default true,
  batch_size integer not null default 500,
  max_retries integer not null default 3,
  retention_months integer not null default 12,
  months_ahead integer not null default 3,
  updated_at timestamptz not null default now(),
  constraint id_is_true check (id),
  constraint batch_size_is_between_1_and_50000 check (batch_size between 1 and 50000),
  constraint max_retries_is_between_0_and_100 check (max_retries between 0 and 100),
  constraint retention_months_is_at_least_1 check (retention_months >= 1),
  constraint months_ahead_is_between_1_and_24 check (months_ahead between 1 and 24)
);
comment on table telemetry.settings is 'Single row of pipeline settings (batch size, retries, retention).';

insert into telemetry.settings (id) values (true);

alter table telemetry.settings enable row level security;
grant select, update on telemetry.settings to service_role;

create policy "Service role manages the settings"
  on telemetry.settings for all to service_role
  using (true) with check (true);

/*
 * public.get_settings(): the pipeline settings as JSON, for the config endpoint.
 * Returns {batch_size, max_retries, retention_months, months_ahead}.
 *
 * security definer: the settings row is not tenant data, and the config endpoint answers any valid
 * JWT (anon key included), so callers read it without a privilege on telemetry.settings.
 */
create function public.get_settings()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'batch_size', s.batch_size,
    'max_retries', s.max_retries,
    'retention_months', s.retention_months,
    'months_ahead', s.months_ahead
  )
  from telemetry.settings as s
  where s.id
$$;
comment on function public.get_settings() is 'Pipeline settings for the config endpoint (no tenant data).';
grant execute on function public.get_settings() to anon, authenticated, service_role;
