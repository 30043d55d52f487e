-- record_telemetry_rejects stores every rejected line with its reason, truncating an overlong
-- raw text but keeping its length, so nothing a device sent disappears without a trace.
begin;
set local search_path = extensions, public;
select plan(5);

select telemetry_tests.create_device(telemetry_tests.create_user('uma@example.com')) as drone \gset

select telemetry_tests.authenticate_as_service_role();
select is(
  public.record_telemetry_rejects(:'drone', jsonb_build_array(
    jsonb_build_object('line_number', 1, 'raw_text', 'alt=abc', 'reason', 'altitude_m: not a number'),
    jsonb_build_object('line_number', 2, 'raw_text', repeat('x', 5000), 'reason', 'line too long'),
    jsonb_build_object('line_number', 3, 'raw_text', 'roll=1'))),
  3,
  'every rejected line is stored and counted');
select results_eq(
  format($$select line_number, char_length(raw_text), raw_length, reason, received_at = now()
           from public.telemetry_rejects where device_id = %L order by line_number$$, :'drone'),
  $$values (1, 7, 7, 'altitude_m: not a number'::text, true),
           (2, 4096, 5000, 'line too long'::text, true),
           (3, 6, 6, 'unspecified'::text, true)$$,
  'each with its line number, bounded raw text, original length and reason');
select is(public.record_telemetry_rejects(:'drone', '[]'), 0, 'an empty list stores nothing');
select throws_ok(format('select public.record_telemetry_rejects(%L, %L)', :'drone', '{}'), '22023',
  'p_rejects must be a JSON array, got object', 'a non-array is refused');
select throws_ok(format('select public.record_telemetry_rejects(%L, %L)', gen_random_uuid(), '[{"reason": "x"}]'),
  '23503', null, 'rejects of an unknown device are refused');

select * from finish();
rollback;
