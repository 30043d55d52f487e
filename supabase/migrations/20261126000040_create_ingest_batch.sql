-- Group commit for device requests: the telemetry-parse function gathers the requests that arrive
-- while its previous database call is in flight and stores them with one call, in one
-- transaction, instead of one round trip and one commit each.

/*
 * public.ingest_batch(p_requests): stores several device requests in one transaction.
 * p_requests is a JSON array of {device_id, key_hash, frames, rejects, idempotency_key, summary}:
 * what public.ingest_request takes, plus the SHA-256 of the key the request came with. The key is
 * checked here, in the transaction that stores the frames, so a key revoked or rotated a moment
 * ago is refused (P0002) even when the function still had it cached. Each request runs in a
 * subtransaction of its own, so one that fails (a stale key, a frame the table refuses) is rolled
 * back alone and reported, and the others are stored.
 *
 * Returns a JSON array in the order of p_requests: {ok: true, answer: <ingest_request's answer>}
 * or {ok: false, code: <SQLSTATE>, message}. service_role only.
 */
create function public.ingest_batch(p_requests jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_request jsonb;
  v_outcomes jsonb := '[]'::jsonb;
begin
  -- GUARD
  if jsonb_typeof(p_requests) is distinct from 'array' then
    raise exception 'p_requests must be a JSON array, got %',
      coalesce(jsonb_typeof(p_requests), 'null') using errcode = '22023';
  end if;

  for v_request in select r.value from jsonb_array_elements(p_requests) as r loop
    begin
      perform from telemetry.devices as d
      where d.id = (v_request ->> 'device_id')::uuid
        and d.key_hash = v_request ->> 'key_hash'
        and d.revoked_at is null;
      if not found then
        raise exception 'device "%" has no current key with that hash', v_request ->> 'device_id'
          using errcode = 'P0002';
      end if;
      v_outcomes := v_outcomes || jsonb_build_array(jsonb_build_object(
        'ok', true,
        'answer', public.ingest_request(
          (v_request ->> 'device_id')::uuid,
          v_request -> 'frames',
          coalesce(v_request -> 'rejects', '[]'::jsonb),
          v_request ->> 'idempotency_key',
          coalesce(v_request -> 'summary', '{}'::jsonb)
        )
      ));
    exception when others then
      v_outcomes := v_outcomes || jsonb_build_array(jsonb_build_object(
        'ok', false, 'code', sqlstate, 'message', sqlerrm));
    end;
  end loop;
  return v_outcomes;
end;
$$;
comment on function public.ingest_batch(jsonb) is
  'Stores several device requests in one transaction, each in its own subtransaction. service_role only.';
grant execute on function public.ingest_batch(jsonb) to service_role;
