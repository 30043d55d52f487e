/**
 * Keyset paging by a telemetry field, end to end (gateway, telemetry-query, PostgREST, Postgres),
 * as a property: over generated data full of equal values and NULLs, on several devices whose
 * frames share their recorded_at, with frames staged (and flushed) between pages, walking every
 * page of a random order, direction, page size and device filter never repeats a frame, never
 * skips one that was there from the start, and keeps the order (field, recorded_at, device_id),
 * NULLs last both ways. A seeded generator makes a failure reproducible (the seed is printed).
 */
import { assert, assertEquals } from "@std/assert";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sql,
  type TestDevice,
} from "./_helpers.ts";
import { seededRandom } from "../../scripts/simulator/flight.ts";

// Numeric and boolean fields: their order in Postgres is the obvious one (no collation).
const FIELDS = ["altitude_m", "battery_voltage_v", "gps_satellites", "armed"] as const;
type Field = (typeof FIELDS)[number];

/** A value drawn from very few (so many are equal), null a quarter of the time. */
function valueOf(field: Field, random: () => number): number | boolean | null {
  if (random() < 0.25) return null;
  const pick = Math.floor(random() * 3);
  if (field === "armed") return pick % 2 === 0;
  if (field === "gps_satellites") return 8 + pick;
  return [10.5, 12, 16.75][pick]!;
}

function frame(at: number, random: () => number): Record<string, unknown> {
  return {
    recorded_at: new Date(at).toISOString(),
    flight_id: "prop",
    ...Object.fromEntries(FIELDS.map((field) => [field, valueOf(field, random)])),
  };
}

async function stage(device: TestDevice, frames: Record<string, unknown>[]): Promise<void> {
  const json = JSON.stringify(frames).replaceAll("'", "''");
  await sql(`select public.ingest_telemetry('${device.id}', '${json}'::jsonb)`);
}

type Row = Record<string, unknown> & { "device_id": string; "recorded_at": string };
const keyOf = (row: Row) => `${row.device_id}/${Date.parse(row.recorded_at)}`;

/** -1, 0 or 1 as a and b sort in (field, recorded_at, device_id), NULLs last either way. */
function compare(field: Field, desc: boolean, a: Row, b: Row): number {
  const x = a[field] as number | boolean | null;
  const y = b[field] as number | boolean | null;
  if ((x === null) !== (y === null)) return x === null ? 1 : -1;
  const sign = desc ? -1 : 1;
  if (x !== null && y !== null && x !== y) return (Number(x) < Number(y) ? -1 : 1) * sign;
  const at = Date.parse(a.recorded_at) - Date.parse(b.recorded_at);
  if (at !== 0) return Math.sign(at) * sign;
  return (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0) * sign;
}

Deno.test("field-order pages never repeat or skip a frame, with equal values, NULLs and frames staged between pages", async () => {
  const user = await createUser();
  const devices = [await createDevice(user), await createDevice(user), await createDevice(user)];
  const headers = { authorization: `Bearer ${user.token}` };
  const base = Date.parse("2026-11-25T08:00:00Z");
  const setup = seededRandom(1);
  // 15 frames per device at the same instants (recorded_at ties across devices); the first 9
  // flushed, the rest staged.
  for (const device of devices) {
    await stage(device, Array.from({ length: 9 }, (_, i) => frame(base + i * 1000, setup)));
  }
  await sql("select public.flush_telemetry()");
  for (const device of devices) {
    await stage(device, Array.from({ length: 6 }, (_, i) => frame(base + (9 + i) * 1000, setup)));
  }

  let later = base + 1_000_000;
  let between = base + 500;
  for (let seed = 1; seed <= 6; seed++) {
    const random = seededRandom(seed * 7919);
    const field = FIELDS[Math.floor(random() * FIELDS.length)]!;
    const desc = random() < 0.5;
    const limit = 2 + Math.floor(random() * 6);
    const device = random() < 0.3 ? devices[Math.floor(random() * devices.length)] : undefined;
    const label = `seed ${seed}: order_by=${field} desc=${desc} limit=${limit}` +
      (device ? ` device_id=${device.id}` : "");
    const params: Record<string, string> = {
      "order_by": field,
      desc: String(desc),
      limit: String(limit),
      "flight_id": "prop",
      ...(device ? { device_id: device.id } : {}),
    };
    const before = (await jsonOf(
      await callFunction("telemetry-query", { headers, query: { ...params, limit: "1000" } }),
    )).body.data as Row[];

    const seen: Row[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 200; page++) {
      const { status, body } = await jsonOf(
        await callFunction("telemetry-query", {
          headers,
          query: { ...params, ...(cursor ? { cursor } : {}) },
        }),
      );
      assertEquals(status, 200, `${label}: ${JSON.stringify(body)}`);
      seen.push(...(body.data as Row[]));
      cursor = body.next_cursor;
      if (!cursor) break;
      // Between pages: new frames staged, now and then a flush.
      if (random() < 0.5) {
        const target = devices[Math.floor(random() * devices.length)]!;
        later += 1000;
        between += 1; // a new instant among the existing ones (they are whole seconds)
        await stage(target, [frame(later, random), frame(between, random)]);
      }
      if (random() < 0.2) await sql("select public.flush_telemetry()");
    }
    assertEquals(cursor, null, `${label}: the walk ended`);

    const keys = seen.map(keyOf);
    assertEquals(new Set(keys).size, keys.length, `${label}: no frame repeats`);
    const missing = before.map(keyOf).filter((key) => !keys.includes(key));
    assertEquals(missing, [], `${label}: no frame that was there from the start is skipped`);
    for (let i = 1; i < seen.length; i++) {
      assert(
        compare(field, desc, seen[i - 1]!, seen[i]!) < 0,
        `${label}: rows ${i - 1} and ${i} out of order: ${JSON.stringify([seen[i - 1], seen[i]])}`,
      );
    }
    assert(before.length >= 15, `${label}: ${before.length} frames in scope`);
  }
});
