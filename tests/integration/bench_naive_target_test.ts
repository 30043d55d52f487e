/**
 * The benchmark's naive target (scripts/bench/naive_target.ts) while it exists: service role
 * POSTs frames through /rest/v1 into telemetry.telemetry, and neither anon (publishable key or
 * legacy anon JWT) nor another tenant's user reads anything through it.
 */
import { assert, assertEquals } from "@std/assert";
import {
  createNaiveTarget,
  dropNaiveTarget,
  NAIVE_REST_PATH,
} from "../../scripts/bench/naive_target.ts";
import { GATEWAY_URL } from "../../scripts/stack/layout.ts";
import { createDevice, createUser, sql, stackKeys } from "./_helpers.ts";

const TARGET = `${GATEWAY_URL}${NAIVE_REST_PATH}`;

Deno.test("naive target takes service role frames and shows nothing to anon or another tenant", async () => {
  const keys = await stackKeys();
  const owner = await createUser();
  const stranger = await createUser();
  const device = await createDevice(owner);
  await createNaiveTarget();
  try {
    const recordedAt = new Date().toISOString();
    const post = await fetch(TARGET, {
      method: "POST",
      headers: {
        apikey: keys.secretKey,
        "content-type": "application/json",
        prefer: "return=minimal",
      },
      body: JSON.stringify([{ device_id: device.id, recorded_at: recordedAt, altitude_m: 42 }]),
    });
    assertEquals(post.status, 201, await post.text());
    assertEquals(
      await sql(`select altitude_m from telemetry.telemetry where device_id = '${device.id}'`),
      "42",
    );

    const readers: [string, Record<string, string>][] = [
      ["publishable key", { apikey: keys.publishableKey }],
      ["legacy anon JWT", { apikey: keys.anonKey }],
      ["another tenant", {
        apikey: keys.publishableKey,
        authorization: `Bearer ${stranger.token}`,
      }],
    ];
    for (const [who, headers] of readers) {
      const response = await fetch(`${TARGET}?select=device_id,altitude_m`, { headers });
      const body = await response.json();
      assert(
        response.status === 401 || response.status === 403,
        `${who}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`,
      );
      assertEquals([who, Array.isArray(body)], [who, false]);
      const write = await fetch(TARGET, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify([{ device_id: device.id, altitude_m: 1 }]),
      });
      await write.body?.cancel();
      assert(write.status === 401 || write.status === 403, `${who} wrote: ${write.status}`);
    }
    assertEquals(
      await sql(
        `select string_agg(r || ':' || has_table_privilege(r, 'public.bench_naive_telemetry',
        'select,insert,update,delete,truncate,references,trigger'), ',' order by r)
        from unnest(array['anon', 'authenticated']) r`,
      ),
      "anon:false,authenticated:false",
    );
  } finally {
    await dropNaiveTarget();
  }
  assertEquals(await sql(`select to_regclass('public.bench_naive_telemetry') is null`), "t");
});
