-- One round trip per device request: frames, rejected lines and the request's idempotency record
-- in one transaction, through public.ingest_request().

/*
 * telemetry.ingest_requests: what each device request was answered, keyed by its idempotency key
 * (the client's Idempotency-Key header, or one the function makes up for its own retries). A
 * retried request gets the first answer back and stores nothing twice.
 *
 * Kept in Postgres, in the same transaction as the frames, and not in Redis: Redis never holds
 * the only copy of anything, and a Redis restart between a request and its retry must not store
 * the frames twice. Rows older than a day are pruned by pg_cron.
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
 * public.ingest_request(p_device_id, p_frames, p_rejects, p_idempotency_key, p_summary): what the
 * telemetry-parse function calls once per request. In one transaction it claims the idempotency
 * key, stores the frames (public.ingest_telemetry) and the rejected lines
 * (public.record_telemetry_rejects), and keeps {summary, result} as the request's answer.
 *
 * When the key was already used by this device it stores nothing and returns the first answer
 * with replayed = true. A concurrent request with the same key waits on the primary key until
 * the first one commits (then it replays) or aborts (then it stores).
 *
 * Returns {replayed, summary, result}; result is ingest_telemetry's
 * {accepted, pending_records, batch_size, batch_full, flush_triggered}. service_role only.
 */
create function public.ingest_request(
  p_device_id uuid,
  p_frames jsonb,
  p_rejects jsonb,
  p_idempotency_key text,
  p_summary jsonb default '{}'::jsonb
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_answer jsonb;
  v_result jsonb;
begin
  -- GUARD
  if p_idempotency_key is null then
    raise exception 'p_idempotency_key must not be null' using errcode = '22004';
  end if;

  -- CLAIM the key, or replay the answer given the first time
  insert into telemetry.ingest_requests (device_id, idempotency_key)
  values (p_device_id, p_idempotency_key)
  on conflict do nothing;
  if not found then
    select r.answer into strict v_answer
    from telemetry.ingest_requests as r
    where r.device_id = p_device_id and r.idempotency_key = p_idempotency_key;
    return v_answer || jsonb_build_object('replayed', true);
  end if;

  -- STORE
  v_result := public.ingest_telemetry(p_device_id, p_frames);
  if jsonb_array_length(p_rejects) > 0 then
    perform public.record_telemetry_rejects(p_device_id, p_rejects);
  end if;

  v_answer := jsonb_build_object('summary', p_summary, 'result', v_result);
  update telemetry.ingest_requests as r
  set answer = v_answer
  where r.device_id = p_device_id and r.idempotency_key = p_idempotency_key;
  return v_answer || jsonb_build_object('replayed', false);
end;
$$;
comment on function public.ingest_request(uuid, jsonb, jsonb, text, jsonb) is
  'Stores one device request (frames, rejects, idempotency record) in one transaction. service_role only.';
grant execute on function public.ingest_request(uuid, jsonb, jsonb, text, jsonb) to service_role;

/*
 * telemetry.prune_ingest_requests(): deletes idempotency records older than a day (a device
 * retries within minutes, not days). Run daily by pg_cron.
 */
create function telemetry.prune_ingest_requests(p_now timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_deleted bigint;
begin
  delete from telemetry.ingest_requests as r where r.created_at < p_now - interval '1 day';
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;
comment on function telemetry.prune_ingest_requests(timestamptz) is
  'Daily: deletes idempotency records older than a day. Run by pg_cron.';

select cron.schedule('telemetry-prune-ingest-requests', '37 3 * * *',
  'select telemetry.prune_ingest_requests()');
