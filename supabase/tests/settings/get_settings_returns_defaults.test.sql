-- The pipeline settings default to batch_size 500, max_retries 3, retention 12 months, and are
-- readable through get_settings by every API role.
begin;
set local search_path = extensions, public;
select plan(3);

select is(public.get_settings(),
  '{"batch_size": 500, "max_retries": 3, "retention_months": 12, "months_ahead": 3}'::jsonb,
  'get_settings returns the defaults');
select telemetry_tests.authenticate_as_anon();
select is((public.get_settings() ->> 'batch_size')::integer, 500, 'anon can read the settings');
select telemetry_tests.reset_role();
select throws_ok('update telemetry.settings set batch_size = 0', '23514', null,
  'a batch_size below 1 is refused');

select * from finish();
rollback;
