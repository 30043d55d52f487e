-- Ingest cost, round 3 (issue 19): public.ingest_frames stops copying each request's frames
-- through its statement.
--
-- Profiled on 500-frame bodies (perf over Postgres and PostgREST during `deno task bench`,
-- 2 requests per call): ingest_frames and its commit took about a third of the database side's
-- CPU, and most of that was moving bytes: the `requests` CTE carried every request's frames (a
-- frame_values[] literal of about 1 kB a frame) and the DISTINCT ON sort, the window, the hash
-- joins and the CTE scans each made a copy (tuplesort_puttupleslot, heap_form_minimal_tuple,
-- tuplestore_gettupleslot, MultiExecHash), each a fresh allocation whose pages fault in
-- (asm_exc_page_fault: 9% of all samples). Now the CTEs carry each request's number and header
-- only, and the parts are read from the split body where they are used: the literal once, by
-- the staging insert; the rejects and the summary where they are stored or answered.
-- Behaviour is unchanged (supabase/tests/ingest_frames/*).

/*
 * public.ingest_frames(body text): stores a group of device requests in one statement; called by
 * telemetry-parse with the group as the raw request body (4 parts per request: header, frames,
 * rejects, summary, each ended by a line feed and U+001E). See
 * 20261201000090_stage_requests_as_text.sql for the body and the answer. service_role only.
 */
create or replace function public.ingest_frames(text)
returns json
language plpgsql
volatile
set search_path = ''
-- Its statements are planned once per connection, not five times first (each plan of the big
-- statement costs about as much as running it for a small group).
set plan_cache_mode = force_generic_plan
set jit = off
as $$
declare
  v_lines text[] := pg_catalog.string_to_array($1, e'\n\x1e');
  v_requests integer := coalesce(pg_catalog.array_length(v_lines, 1), 0) / 4;
  v_outcomes json;
  v_batch_size integer;
  v_pending bigint;
  v_stored bigint;
begin
  -- GUARD
  if coalesce(pg_catalog.array_length(v_lines, 1), 0) % 4 <> 0 then
    raise exception 'the body must hold 4 parts per request, got % parts',
      pg_catalog.array_length(v_lines, 1) using errcode = '22023';
  end if;

  -- What was staged before (as telemetry.staged_count counts it, inline: a call of that SQL
  -- function is planned anew in every transaction).
  select s.batch_size,
         (select coalesce(sum(t.frame_count), 0)
          from (select x.frame_count from telemetry.telemetry_staging as x order by x.id limit 1000) as t)
  into strict v_batch_size, v_pending
  from telemetry.settings as s
  where s.id;

  -- STORE: check, claim, stage and reject in one statement. Each request's batch status is
  -- what was staged before the call plus the frames of the group up to it; a retry gets it back.
  -- The CTEs carry each request's number, never its parts: the frames (about 1 kB a frame)
  -- are read from v_lines where they are stored, so no sort, hash or CTE copies them (each
  -- copy of a 500 kB literal cost a fresh allocation, its page faults and a memcpy).
  with requests as (
    select r.n, h.device_id, h.key_hash, h.idempotency_key, h.frame_count,
           exists (
             select from telemetry.devices as d
             where d.id = h.device_id and d.key_hash = h.key_hash and d.revoked_at is null
           ) as key_ok
    from generate_series(0, v_requests - 1) as r (n)
    cross join lateral json_to_record(v_lines[4 * r.n + 1]::json)
      as h (device_id uuid, key_hash text, idempotency_key text, frame_count integer)
  ),
  firsts as (
    select u.*, v_pending + sum(u.frame_count) over (order by u.n) as pending_records
    from (
      select distinct on (q.device_id, q.idempotency_key) q.*
      from requests as q
      where q.key_ok
      order by q.device_id, q.idempotency_key, q.n
    ) as u
  ),
  claimed as (
    insert into telemetry.ingest_requests (
      device_id, idempotency_key, accepted, pending_records, batch_size, summary
    )
    select f.device_id, f.idempotency_key, f.frame_count, f.pending_records, v_batch_size,
           v_lines[4 * f.n + 4]
    from firsts as f
    on conflict do nothing
    returning device_id, idempotency_key
  ),
  stored as (
    select f.*
    from firsts as f
    join claimed as c on c.device_id = f.device_id and c.idempotency_key = f.idempotency_key
  ),
  staged as (
    insert into telemetry.telemetry_staging (device_id, frame_count, frames)
    select s.device_id, s.frame_count, v_lines[4 * s.n + 2]
    from stored as s
    where s.frame_count > 0
    order by s.n
    returning 1
  ),
  rejected as (
    insert into telemetry.telemetry_rejects (device_id, line_number, raw_text, raw_length, reason)
    select s.device_id, r.line_number, left(r.raw_text, 4096), char_length(r.raw_text),
           left(coalesce(nullif(r.reason, ''), 'unspecified'), 1000)
    from stored as s
    cross join lateral json_to_recordset(v_lines[4 * s.n + 3]::json)
      as r (line_number integer, raw_text text, reason text)
    where v_lines[4 * s.n + 3] <> '[]'
    returning 1
  )
  select json_agg(
           case
             when not q.key_ok then json_build_object('ok', false, 'code', 'P0002',
               'message', format('device "%s" has no current key with that hash', q.device_id))
             when s.n is not null then json_build_object('ok', true, 'replayed', false,
               'accepted', s.frame_count, 'pending_records', s.pending_records,
               'batch_size', v_batch_size, 'batch_full', s.pending_records >= v_batch_size)
             -- A replay of a request stored before this call, or earlier in this group.
             when p.summary is not null or f.n is not null then json_build_object('ok', true,
               'replayed', true, 'accepted', coalesce(p.accepted, f.frame_count),
               'pending_records', coalesce(p.pending_records, f.pending_records),
               'batch_size', coalesce(p.batch_size, v_batch_size),
               'batch_full', coalesce(p.pending_records, f.pending_records)
                 >= coalesce(p.batch_size, v_batch_size),
               'summary', coalesce(p.summary, v_lines[4 * f.n + 4])::json)
             -- Claimed by a concurrent call that committed after this statement began.
             else json_build_object('ok', false, 'code', '40001',
               'message', 'the same idempotency key is being stored by another request')
           end
           order by q.n),
         (select coalesce(sum(s2.frame_count), 0) from stored as s2)
  into v_outcomes, v_stored
  from requests as q
  left join stored as s on s.n = q.n
  left join firsts as f
    on f.device_id = q.device_id and f.idempotency_key = q.idempotency_key and f.n < q.n
  left join telemetry.ingest_requests as p
    on p.device_id = q.device_id and p.idempotency_key = q.idempotency_key
  -- The staging and reject inserts run whether or not the answer reads them.
  where (select count(*) from staged) >= 0 and (select count(*) from rejected) >= 0;

  -- BATCH STATUS after the group.
  v_pending := v_pending + v_stored;
  return json_build_object(
    'batch', json_build_object('pending_records', v_pending, 'batch_size', v_batch_size,
      'batch_full', v_pending >= v_batch_size),
    'outcomes', coalesce(v_outcomes, '[]'::json));
end;
$$;
comment on function public.ingest_frames(text) is
  'Stores a group of device requests (raw text body, 4 parts each) in one statement. service_role only.';
grant execute on function public.ingest_frames(text) to service_role;
