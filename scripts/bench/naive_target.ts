/**
 * The benchmark's naive baseline target: frames POSTed as JSON through the gateway's `/rest/v1`
 * straight into the indexed, partitioned `telemetry.telemetry` table, as service role.
 *
 * PostgREST only exposes `public`, so the table is reached through a view there. Supabase's
 * default privileges grant every new public relation to anon and authenticated, and a plain view
 * runs with its owner's rights (past RLS): created naively, it lets the anon key read every
 * tenant's frames for as long as it exists. So the view is `security_invoker` (RLS of the caller
 * applies), every privilege is revoked in the transaction that creates it (no other session ever
 * sees the default grants), and only service_role gets INSERT. It is dropped before it is created,
 * so a run that was killed leaves nothing once the next one starts.
 */
import { loadKeys } from "../stack/keys.ts";
import { GATEWAY_URL } from "../stack/layout.ts";
import * as postgres from "../stack/postgres.ts";
import { waitFor } from "../stack/processes.ts";

/** The path, under the gateway, that the naive path POSTs its frames to. */
export const NAIVE_REST_PATH = "/rest/v1/bench_naive_telemetry";

/** Creates the naive target and waits until PostgREST accepts frames on it. */
export async function createNaiveTarget(): Promise<void> {
  await postgres.psql(`
    begin;
    drop view if exists public.bench_naive_telemetry;
    create view public.bench_naive_telemetry with (security_invoker = true) as
      select * from telemetry.telemetry;
    revoke all on public.bench_naive_telemetry from public, anon, authenticated, service_role;
    grant insert on public.bench_naive_telemetry to service_role;
    comment on view public.bench_naive_telemetry is
      'Benchmark only (scripts/bench/naive_target.ts): service_role inserts frames into telemetry.telemetry through PostgREST. Dropped when the run ends.';
    commit;
    notify pgrst, 'reload schema';`);
  // PostgREST reloads its schema cache asynchronously, and plans an insert from it (404 until
  // then). Its OpenAPI description lists what the cache holds that service role may use.
  const keys = await loadKeys();
  await waitFor(
    async () => {
      const response = await fetch(`${GATEWAY_URL}/rest/v1/`, {
        headers: { apikey: keys.secretKey },
      });
      const description = response.ok ? await response.json() : await response.body?.cancel();
      return typeof description?.paths?.[NAIVE_REST_PATH.slice("/rest/v1".length)] === "object";
    },
    10_000,
    "PostgREST to expose the benchmark's naive target",
  );
}

/** Drops the naive target (nothing happens when it does not exist). */
export async function dropNaiveTarget(): Promise<void> {
  await postgres.psql(
    `drop view if exists public.bench_naive_telemetry; notify pgrst, 'reload schema';`,
  );
}
