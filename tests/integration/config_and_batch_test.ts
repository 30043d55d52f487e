/**
 * config, telemetry-batch-flush and telemetry-batch-status end to end, with each kind of key.
 */
import { assert, assertEquals } from "@std/assert";
import { signHs256 } from "../../shared/auth/jwt.ts";
import { FIELD_NAMES, findField } from "../../shared/catalogue/catalogue.ts";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
  sql,
  stackKeys,
} from "./_helpers.ts";

Deno.test("config answers the reference fields and the whole catalogue", async () => {
  const keys = await stackKeys();
  const { status, body } = await jsonOf(
    await callFunction("config", { headers: { authorization: `Bearer ${keys.anonKey}` } }),
  );
  assertEquals(status, 200);
  assertEquals(Object.keys(body.telemetry_fields), [...FIELD_NAMES]);
  assertEquals(body.fields.length, FIELD_NAMES.length);
  assertEquals(body.batch_size, 500);
  assertEquals(body.max_retries, 3);
  assertEquals(body.supabase_project_id, "local");
  assertEquals(typeof body.flush_interval, "string");
  assertEquals(typeof body.timestamp, "string");
  const roll = body.fields.find((field: { name: string }) => field.name === "roll_degrees");
  assert(roll.aliases.includes("roll"));
  assertEquals(roll.unit, findField("roll")?.unit);
  assertEquals(roll.min, findField("roll")?.min);
});

Deno.test("config answers every valid key, the publishable key included, as the README says", async () => {
  const keys = await stackKeys();
  const user = await createUser();
  const accepted: [string, Record<string, string>][] = [
    ["publishable key as apikey", { apikey: keys.publishableKey }],
    ["publishable key as Bearer", { authorization: `Bearer ${keys.publishableKey}` }],
    ["anon key", { authorization: `Bearer ${keys.anonKey}` }],
    ["secret key", { apikey: keys.secretKey }],
    ["user token", { authorization: `Bearer ${user.token}` }],
  ];
  for (const [name, headers] of accepted) {
    const { status, body } = await jsonOf(await callFunction("config", { headers }));
    assertEquals([name, status, body.success ?? true], [name, 200, true]);
  }
});

Deno.test("config refuses a missing, expired, forged or unknown credential in the error envelope", async () => {
  const keys = await stackKeys();
  const now = Math.floor(Date.now() / 1000);
  const expired = await signHs256(
    { role: "anon", iat: now - 7200, exp: now - 3600 },
    keys.jwtSecret,
  );
  const forged = await signHs256(
    { role: "anon", exp: now + 3600 },
    "another-secret-that-is-long-enough-000",
  );
  const cases: [string, Record<string, string>, string][] = [
    ["missing", {}, "missing_credentials"],
    ["expired", { authorization: `Bearer ${expired}` }, "invalid_token"],
    ["forged", { authorization: `Bearer ${forged}` }, "invalid_token"],
    ["not a key", { authorization: "Bearer hello" }, "invalid_token"],
    ["unknown apikey", { apikey: "sb_publishable_nope" }, "invalid_api_key"],
  ];
  for (const [name, headers, code] of cases) {
    const { status, body } = await jsonOf(await callFunction("config", { headers }));
    assertEquals([name, status, body.success, body.error.code], [name, 401, false, code]);
    assertEquals(typeof body.error.message, "string");
    assertEquals(typeof body.timestamp, "string");
  }
});

Deno.test("telemetry-batch-flush moves staged frames for service role only", async () => {
  const keys = await stackKeys();
  const user = await createUser();
  const device = await createDevice(user);
  await jsonOf(
    await sendTelemetry(device, "roll:1,ts:2026-03-01T00:00:00Z\nroll:2,ts:2026-03-01T00:00:01Z"),
  );
  const refused = await jsonOf(
    await callFunction("telemetry-batch-flush", {
      method: "POST",
      headers: { authorization: `Bearer ${user.token}` },
    }),
  );
  assertEquals(refused.status, 403);
  for (
    const headers of [{ authorization: `Bearer ${keys.serviceRoleKey}` }, {
      apikey: keys.secretKey,
    }]
  ) {
    const { status, body } = await jsonOf(
      await callFunction("telemetry-batch-flush", { method: "POST", headers }),
    );
    assertEquals(status, 200);
    assertEquals(body.success, true);
    assertEquals(typeof body.message, "string");
    assertEquals(typeof body.batch_status.pending_records, "number");
    assertEquals(typeof body.rows_moved, "number");
  }
  // A flush answers skipped while pg_cron's runs; ask again until this device's rows have moved.
  const staged = () =>
    sql(`select count(*) from telemetry.telemetry_staging where device_id = '${device.id}'`);
  for (let attempt = 0; attempt < 10 && (await staged()) !== "0"; attempt++) {
    await jsonOf(
      await callFunction("telemetry-batch-flush", {
        method: "POST",
        headers: { apikey: keys.secretKey },
      }),
    );
  }
  assertEquals(await staged(), "0");
  assertEquals(
    await sql(`select count(*) from telemetry.telemetry where device_id = '${device.id}'`),
    "2",
  );
});

Deno.test("telemetry-batch-status answers operators and refuses the rest", async () => {
  const keys = await stackKeys();
  const user = await createUser();
  const ok = await jsonOf(
    await callFunction("telemetry-batch-status", {
      headers: { authorization: `Bearer ${user.token}` },
    }),
  );
  assertEquals(ok.status, 200);
  assertEquals(Object.keys(ok.body).sort(), ["batch_status", "success", "timestamp"]);
  for (
    const field of ["pending_records", "batch_size", "batch_full", "last_flush", "flush_schedule"]
  ) {
    assert(field in ok.body.batch_status, field);
  }
  const anon = await jsonOf(
    await callFunction("telemetry-batch-status", { headers: { apikey: keys.publishableKey } }),
  );
  assertEquals(anon.status, 403);
  const none = await jsonOf(await callFunction("telemetry-batch-status"));
  assertEquals(none.status, 401);
});
