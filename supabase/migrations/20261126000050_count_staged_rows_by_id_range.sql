-- Count staged rows from the primary key's ends instead of scanning them.
--
-- Every ingest asks how many rows wait in staging (to answer pending_records and to start a
-- flush when a batch is full). Counting them scans the backlog: measured at 4.5 ms per request
-- with a backlog of tens of thousands of rows under load, a cost that grows exactly when ingest
-- can least afford it. Staged ids come from one identity and the flush always takes the lowest
-- ids first, so the rows form one run and max(id) - min(id) + 1 is their number, read from the
-- two ends of the primary key index in constant time. It over-counts only by ids that never
-- became visible rows (an ingest rolled back between two committed ones) until the flush passes
-- them, which at worst starts a flush a little early.

/*
 * telemetry.staged_count(p_cap): rows waiting in staging, from the id range (see above), capped
 * at p_cap when one is given. Called by ingest_telemetry, run_flush and get_batch_status.
 */
create or replace function telemetry.staged_count(p_cap bigint default null)
returns bigint
language sql
stable
set search_path = ''
as $$
  select least(coalesce(max(s.id) - min(s.id) + 1, 0), coalesce(p_cap, 9223372036854775807))
  from telemetry.telemetry_staging as s
$$;
