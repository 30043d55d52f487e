/**
 * With a replica, operators' pages, exports, rollups and flights are read there and not on the
 * primary (each server's own pg_stat_statements says which ran them); the monitor stays on the
 * primary. And the consistency README states: right after a device's write, a replica answer
 * may miss it while the replica has not replayed it (never longer than REPLICA_MAX_LAG_SECONDS),
 * and such an answer is cached no longer than that either.
 */
import { assert, assertEquals } from "@std/assert";
import { PORTS } from "../../scripts/stack/layout.ts";
import { countReadStatements } from "../../scripts/stack/replica.ts";
import {
  callFunction,
  createDevice,
  createUser,
  sendTelemetry,
  sql,
} from "../integration/_helpers.ts";
import { pauseReplay, psqlReplica, resumeReplay, waitForReplay } from "./_replica.ts";

/** Frames of one flight, a second apart, ending now. */
function flight(count: number): string {
  const end = Date.now();
  return Array.from(
    { length: count },
    (_, i) =>
      `roll:${i},alt:${100 + i},armed:1,flight_id:f1,ts:${
        new Date(end - (count - i) * 1000).toISOString()
      }`,
  ).join("\n");
}

async function get(token: string, name: string, path: string, query: Record<string, string>) {
  const response = await callFunction(name, {
    path,
    headers: { authorization: `Bearer ${token}` },
    query,
  });
  const source = response.headers.get("x-read-source");
  const text = await response.text();
  return { status: response.status, source, text };
}

Deno.test("pages, exports, rollups and flights are read on the replica, the monitor on the primary", async () => {
  const owner = await createUser();
  const device = await createDevice(owner);
  assertEquals((await sendTelemetry(device, flight(20))).status, 200);
  await sql("select telemetry.run_flush(null, 'api')");
  await waitForReplay(await sql("select pg_current_wal_lsn()"));
  const primaryBefore = await countReadStatements(PORTS.postgres);
  const replicaBefore = await countReadStatements(PORTS.replicaPostgres);

  const reads = [
    await get(owner.token, "telemetry-query", "", { device_id: device.id, limit: "5" }),
    await get(owner.token, "telemetry-query", "", { device_id: device.id, format: "csv" }),
    await get(owner.token, "telemetry-query", "", { device_id: device.id, format: "ndjson" }),
    await get(owner.token, "telemetry-analytics", "", { device_id: device.id }),
    await get(owner.token, "telemetry-analytics", "", { device_id: device.id, bucket: "day" }),
    await get(owner.token, "telemetry-analytics", "/flights", { device_id: device.id }),
  ];
  assertEquals(reads.map(({ status, source }) => [status, source]), [
    [200, "replica"],
    [200, "replica"],
    [200, "replica"],
    [200, "replica"],
    [200, "replica"],
    [200, "replica"],
  ]);
  assertEquals(JSON.parse(reads[0]!.text).count, 20);
  assertEquals(reads[1]!.text.trim().split("\r\n").length, 21); // header + 20 frames
  assertEquals(JSON.parse(reads[5]!.text).flights.length, 1);

  const monitor = await get(owner.token, "telemetry-analytics", "/monitor", {});
  assertEquals([monitor.status, monitor.source], [200, "primary"]);

  assertEquals(await countReadStatements(PORTS.postgres) - primaryBefore, 0);
  assert(await countReadStatements(PORTS.replicaPostgres) - replicaBefore >= 6);
});

Deno.test("cursor pages on the replica join up, in time order and in a field's order", async () => {
  const owner = await createUser();
  const device = await createDevice(owner);
  assertEquals((await sendTelemetry(device, flight(20))).status, 200);
  await waitForReplay(await sql("select pg_current_wal_lsn()"));
  for (const order of [{}, { "order_by": "altitude_m", desc: "false" }]) {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { "device_id": device.id, limit: "6", ...order };
      if (cursor) query.cursor = cursor;
      const page = await get(owner.token, "telemetry-query", "", query);
      assertEquals([page.status, page.source], [200, "replica"], page.text);
      const body = JSON.parse(page.text);
      seen.push(...body.data.map((frame: { recorded_at: string }) => frame.recorded_at));
      cursor = body.next_cursor;
    } while (cursor);
    assertEquals(seen.length, 20);
    assertEquals(new Set(seen).size, 20);
  }
});

Deno.test("right after a device's write a replica answer may miss it, for at most the allowed lag", async () => {
  const owner = await createUser();
  await pauseReplay();
  try {
    // The device is new to the replica: it is found on the primary, not answered 404.
    const device = await createDevice(owner);
    assertEquals((await sendTelemetry(device, flight(3))).status, 200);
    const query = { "device_id": device.id };
    const stale = await get(owner.token, "telemetry-query", "", query);
    assertEquals([stale.status, stale.source], [200, "replica"]);
    assertEquals(JSON.parse(stale.text).count, 0);
    await resumeReplay();
    // The stale page was cached, for at most REPLICA_MAX_LAG_SECONDS (5 s), not the 300 s of
    // QUERY_CACHE_SECONDS; then the page shows the frames.
    const cachedAt = Date.now();
    const repeat = await get(owner.token, "telemetry-query", "", query);
    assertEquals([repeat.source, JSON.parse(repeat.text).count], ["cache", 0]);
    let fresh = repeat;
    while (JSON.parse(fresh.text).count === 0 && Date.now() - cachedAt < 8_000) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      fresh = await get(owner.token, "telemetry-query", "", query);
    }
    assertEquals([fresh.source, JSON.parse(fresh.text).count], ["replica", 3]);
    assert(Date.now() - cachedAt <= 6_500, `took ${Date.now() - cachedAt} ms`);
  } finally {
    await resumeReplay();
    assertEquals(await psqlReplica("select pg_is_wal_replay_paused()"), "f");
  }
});
