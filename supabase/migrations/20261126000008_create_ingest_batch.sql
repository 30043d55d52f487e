-- Storing device requests, as the telemetry-parse function does: a group of requests (those that
-- arrived while its previous database call was in flight) in one call and one transaction, with
-- the idempotency record of each request kept beside its frames.

/*
 * telemetry.ingest_requests: what each device request was answered, keyed by its idempotency key
 * (the client's Idempotency-Key header, or one the function makes up for its own retries). A
 * retried request gets the first answer back and stores nothing twice.
 *
 * Kept in Postgres, in the same transaction as the frames, and not in Redis: Redis never holds
 * the only copy of anything, and a Redis restart between a request and its retry must not store
 * the frames twice. Rows older than a day are pruned daily by telemetry.prune_history.
 */
create table telemetry.ingest_requests (
  device_id uuid not null references telemetry.devices (id) on delete cascade,
  idempotency_key text not null,
  answer jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  primary key (device_id, idempotency_key),
  constraint idempotency_key_is_1_to_255_chars check (char_length(idempotency_key) between 1 and 255)
);
comment on table telemetry.ingest_requests is
  'Answers of device requests by idempotency key, so a retry stores nothing twice. Pruned after a day.';

create index idx_ingest_requests_by_created_at on telemetry.ingest_requests using brin (created_at);

alter table telemetry.ingest_requests enable row level security;
grant select, insert, update, delete on telemetry.ingest_requests to service_role;

create policy "Service role manages ingest requests"
  on telemetry.ingest_requests for all to service_role
  using (true) with check (true);

/*
 * telemetry.ingest_batch_set(p_requests): the whole group with one statement per step. Raises
 * when any statement fails; public.ingest_batch then falls back to ingest_batch_each.
 */
create function telemetry.ingest_batch_set(p_requests jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_batch jsonb;
  v_group jsonb;
  v_claimed integer[];
  v_outcomes jsonb;
begin
  -- GUARD: each request's key must still be its device's current, unrevoked key. The group is
  -- kept in a jsonb variable, not a temporary table: creating one is DDL, which would make
  -- PostgREST reload its schema cache on every call.
  select jsonb_agg(jsonb_build_object(
           'n', r.n,
           'device_id', r.value ->> 'device_id',
           'idempotency_key', r.value ->> 'idempotency_key',
           'frames', coalesce(r.value -> 'frames', '[]'::jsonb),
           'rejects', coalesce(r.value -> 'rejects', '[]'::jsonb),
           'summary', coalesce(r.value -> 'summary', '{}'::jsonb),
           'key_ok', exists (
             select from telemetry.devices as d
             where d.id = (r.value ->> 'device_id')::uuid
               and d.key_hash = r.value ->> 'key_hash'
               and d.revoked_at is null))
         order by r.n)
  into v_group
  from jsonb_array_elements(p_requests) with ordinality as r (value, n);
  if v_group is null then
    return '[]'::jsonb;
  end if;

  -- CLAIM the idempotency keys; a key used before (or twice in this group) is a replay.
  with firsts as (
    select distinct on (g.device_id, g.idempotency_key) g.n, g.device_id, g.idempotency_key
    from jsonb_to_recordset(v_group) as g (n integer, device_id uuid, idempotency_key text, key_ok boolean)
    where g.key_ok
    order by g.device_id, g.idempotency_key, g.n
  ),
  claimed as (
    insert into telemetry.ingest_requests (device_id, idempotency_key)
    select f.device_id, f.idempotency_key from firsts as f
    on conflict do nothing
    returning device_id, idempotency_key
  )
  select coalesce(array_agg(f.n), '{}')
  into v_claimed
  from firsts as f
  join claimed as c on c.device_id = f.device_id and c.idempotency_key = f.idempotency_key;

  -- STORE the frames and rejected lines of every claimed request, one statement each.
  perform telemetry.stage_frames(
    (select jsonb_agg(jsonb_build_object('device_id', c.device_id, 'frames', c.frames))
     from jsonb_to_recordset(v_group) as c (n integer, device_id uuid, frames jsonb)
     where c.n = any (v_claimed)));

  insert into telemetry.telemetry_rejects (device_id, line_number, raw_text, raw_length, reason)
  select c.device_id, r.line_number, left(r.raw_text, 4096), char_length(r.raw_text), r.reason
  from jsonb_to_recordset(v_group) as c (n integer, device_id uuid, rejects jsonb)
  cross join lateral jsonb_to_recordset(c.rejects) as r (line_number integer, raw_text text, reason text)
  where c.n = any (v_claimed);

  -- FLUSH when a batch is full, as ingest_telemetry does.
  v_batch := telemetry.flush_when_full();

  -- ANSWERS: stored for the claimed requests, read back for the replays.
  update telemetry.ingest_requests as r
  set answer = jsonb_build_object(
    'summary', c.summary,
    'result', jsonb_build_object('accepted', jsonb_array_length(c.frames))
      || (v_batch - 'flush_triggered'))
  from jsonb_to_recordset(v_group)
    as c (n integer, device_id uuid, idempotency_key text, frames jsonb, summary jsonb)
  where c.n = any (v_claimed)
    and r.device_id = c.device_id and r.idempotency_key = c.idempotency_key;

  select jsonb_agg(
           case
             when not g.key_ok then jsonb_build_object('ok', false, 'code', 'P0002',
               'message', format('device "%s" has no current key with that hash', g.device_id))
             else jsonb_build_object('ok', true,
               'answer', r.answer || jsonb_build_object('replayed', not (g.n = any (v_claimed))))
           end
           order by g.n)
  into v_outcomes
  from jsonb_to_recordset(v_group)
    as g (n integer, device_id uuid, idempotency_key text, key_ok boolean)
  left join telemetry.ingest_requests as r
    on r.device_id = g.device_id and r.idempotency_key = g.idempotency_key;
  return v_outcomes;
end;
$$;
comment on function telemetry.ingest_batch_set(jsonb) is
  'ingest_batch with one statement per step for the whole group. Internal.';
grant execute on function telemetry.ingest_batch_set(jsonb) to service_role;

/*
 * telemetry.ingest_batch_each(p_requests): the group request by request, each in a subtransaction
 * of its own, so that one the tables refuse fails alone. The fallback of public.ingest_batch.
 */
create function telemetry.ingest_batch_each(p_requests jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_request jsonb;
  v_outcomes jsonb := '[]'::jsonb;
begin
  for v_request in select r.value from jsonb_array_elements(p_requests) as r loop
    begin
      v_outcomes := v_outcomes || (telemetry.ingest_batch_set(jsonb_build_array(v_request)) -> 0);
    exception when others then
      v_outcomes := v_outcomes || jsonb_build_array(jsonb_build_object(
        'ok', false, 'code', sqlstate, 'message', sqlerrm));
    end;
  end loop;
  return v_outcomes;
end;
$$;
comment on function telemetry.ingest_batch_each(jsonb) is
  'ingest_batch request by request, each in a subtransaction: the fallback when a group fails.';
grant execute on function telemetry.ingest_batch_each(jsonb) to service_role;

/*
 * public.ingest_batch(p_requests): stores several device requests in one transaction. p_requests
 * is a JSON array of {device_id, key_hash, frames, rejects, idempotency_key, summary}: frames are
 * rows keyed by column name, rejects {line_number, raw_text, reason}, key_hash the SHA-256 of the
 * key the request came with, summary what the function wants back on a retry.
 *
 * The key is checked here, in the transaction that stores the frames, so a key revoked or rotated
 * a moment ago is refused even when the function still had it cached. A key used before by the
 * device (or twice in the group) stores nothing and gets the first answer back.
 *
 * The group is stored set-based; if a statement fails (a value a table constraint refuses) the
 * group is rolled back and stored request by request, so only the bad request fails.
 *
 * Returns a JSON array in the order of p_requests: {ok: true, answer: {summary, result,
 * replayed}} with result {accepted, pending_records, batch_size, batch_full}, or {ok: false,
 * code: <SQLSTATE>, message} (P0002 for a key that is not the device's current one).
 * service_role only.
 */
create function public.ingest_batch(p_requests jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  -- GUARD
  if jsonb_typeof(p_requests) is distinct from 'array' then
    raise exception 'p_requests must be a JSON array, got %',
      coalesce(jsonb_typeof(p_requests), 'null') using errcode = '22023';
  end if;
  begin
    return telemetry.ingest_batch_set(p_requests);
  exception when others then
    return telemetry.ingest_batch_each(p_requests);
  end;
end;
$$;
comment on function public.ingest_batch(jsonb) is
  'Stores several device requests in one transaction (idempotent per request). service_role only.';
grant execute on function public.ingest_batch(jsonb) to service_role;
