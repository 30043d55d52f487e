// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Ingest benchmark on the running local stack, printed side by side with the naive baseline in
 * the same run: the same frames POSTed through PostgREST straight into the final telemetry table
 * (one row per request, then 500-row JSON arrays), against telemetry-parse (one frame per
 * request, then 500-line bodies). Both end in the same table: telemetry-parse's frames are
 * flushed there from staging when a batch fills, inside the measured time. Figures, not
 * assertions: the machine is shared.
 * Usage: deno task bench:ingest [requests] [concurrency]
 */
import { loadKeys } from "./stack/keys.ts";
import { GATEWAY_URL } from "./stack/layout.ts";
import * as postgres from "./stack/postgres.ts";
import { createNaiveTarget, dropNaiveTarget, NAIVE_REST_PATH } from "./bench/naive_target.ts";

const requests = Number(Deno.args[0] ?? 2000);
const concurrency = Number(Deno.args[1] ?? 8);
const BATCH = 500;
const keys = await loadKeys();

function frame(i: number, base: number): Record<string, unknown> {
  return {
    recorded_at: new Date(base + i).toISOString(),
    roll_degrees: (i % 360) - 180,
    pitch_degrees: (i % 180) - 90,
    altitude_m: i % 500,
    battery_voltage_v: 12.4,
    armed: i % 2 === 0,
  };
}

function kvLine(row: Record<string, unknown>): string {
  return Object.entries(row).map(([k, v]) => `${k === "recorded_at" ? "ts" : k}:${v}`).join(",");
}

/** Runs `count` calls with `concurrency` in flight and returns rows per second. */
async function measure(count: number, rowsPerCall: number, call: (i: number) => Promise<Response>) {
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const response = await call(next++);
      if (!response.ok) failures++;
      await response.body?.cancel();
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { rowsPerSecond: Math.round((count * rowsPerCall) / seconds), failures };
}

// The naive path writes straight into the real telemetry table (partitioned, indexed, with its
// foreign key) through a view only service role may use; it is dropped on exit, even on Ctrl-C.
await createNaiveTarget();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    dropNaiveTarget().finally(() => Deno.exit(130));
  });
}
try {
  // One device per request in flight, so that no device reaches its per-minute rate limit.
  const owner = crypto.randomUUID();
  await postgres.psql(`insert into auth.users (id) values ('${owner}')`);
  const devices: { id: string; key: string }[] = [];
  for (let i = 0; i < concurrency; i++) {
    const out = await postgres.psql(
      `set request.jwt.claims = '{"role":"service_role"}';
     select row_to_json(d) from public.create_device('bench ${i}', '${owner}') d;`,
    );
    devices.push(JSON.parse(out.split("\n").at(-1) ?? "{}"));
  }
  const deviceFor = (i: number) => devices[i % devices.length] ?? { id: "", key: "" };
  // Device times within the last hours, which the parser accepts; each case its own range.
  const now = Date.now();
  const naive = (i: number, rows: Record<string, unknown>[]) =>
    fetch(`${GATEWAY_URL}${NAIVE_REST_PATH}`, {
      method: "POST",
      headers: {
        apikey: keys.serviceRoleKey,
        "content-type": "application/json",
        prefer: "return=minimal",
      },
      body: JSON.stringify(rows.map((row) => ({ ...row, device_id: deviceFor(i).id }))),
    });
  const ours = (i: number, rows: Record<string, unknown>[]) =>
    fetch(`${GATEWAY_URL}/functions/v1/telemetry-parse`, {
      method: "POST",
      headers: { authorization: `Bearer ${deviceFor(i).key}`, "content-type": "text/plain" },
      body: rows.map(kvLine).join("\n"),
    });

  const batches = Math.max(4, Math.round(requests / 50));
  const results = [
    [
      "single frame",
      await measure(requests, 1, (i) => naive(i, [frame(i, now - 4e7)])),
      await measure(requests, 1, (i) => ours(i, [frame(i, now - 3e7)])),
    ],
    [
      `${BATCH}-frame body`,
      await measure(
        batches,
        BATCH,
        (i) => naive(i, Array.from({ length: BATCH }, (_, j) => frame(i * BATCH + j, now - 2e7))),
      ),
      await measure(
        batches,
        BATCH,
        (i) => ours(i, Array.from({ length: BATCH }, (_, j) => frame(i * BATCH + j, now - 1e7))),
      ),
    ],
  ] as const;

  console.log(`ingest, ${concurrency} requests in flight (rows/s; higher is better)`);
  console.log(
    "case".padEnd(18) + "naive PostgREST".padStart(18) + "telemetry-parse".padStart(18) +
      "ratio".padStart(8),
  );
  for (const [name, baseline, candidate] of results) {
    console.log(
      name.padEnd(18) + String(baseline.rowsPerSecond).padStart(18) +
        String(candidate.rowsPerSecond).padStart(18) +
        (candidate.rowsPerSecond / baseline.rowsPerSecond).toFixed(2).padStart(8) +
        (baseline.failures + candidate.failures
          ? `  (failures: ${baseline.failures}/${candidate.failures})`
          : ""),
    );
  }
} finally {
  await dropNaiveTarget();
}
