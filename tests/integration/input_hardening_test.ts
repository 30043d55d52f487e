/**
 * Input hardening found by trying the API, through the gateway: the declared content type decides
 * the format, keys kept in `extra` are plain identifiers, and a credential that is not an
 * operator's is a 401 on operator endpoints, not a 403.
 */
import { assertEquals, assertMatch } from "@std/assert";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
  sql,
  stackKeys,
} from "./_helpers.ts";

Deno.test("telemetry-parse answers 400 for application/json that is a bare string or number", async () => {
  const device = await createDevice(await createUser());
  for (const [body, found] of [['"roll:1,alt:10"', "a JSON string"], ["42", "a JSON number"]]) {
    const { status, body: answer } = await jsonOf(
      await sendTelemetry(device, body ?? "", { "content-type": "application/json" }),
    );
    assertEquals([status, answer.error.code], [400, "invalid_json_body"]);
    assertMatch(answer.error.message, new RegExp(`application/json but is ${found};`));
  }
  assertEquals(
    await sql(`select count(*) from public.telemetry_frames where device_id = '${device.id}'`),
    "0",
  );
});

Deno.test("telemetry-parse rejects the line of an unknown key that is not a plain identifier", async () => {
  const device = await createDevice(await createUser());
  const { status, body } = await jsonOf(
    await sendTelemetry(device, 'roll:1,wind_gust:3\nalt:2,"roll:4\nalt:3,motor-1:5'),
  );
  assertEquals(status, 200);
  assertEquals([body.accepted, body.rejected], [1, 2]);
  assertEquals(body.errors.map((e: { line: number; key: string }) => [e.line, e.key]), [
    [2, '"roll'],
    [3, "motor-1"],
  ]);
  assertMatch(body.errors[1].reason, /must be a plain identifier/);
  assertEquals(
    await sql(
      `select string_agg(line_number::text, ',' order by line_number) from public.telemetry_rejects where device_id = '${device.id}'`,
    ),
    "2,3",
  );
  assertEquals(
    await sql(`select extra::text from public.telemetry_frames where device_id = '${device.id}'`),
    '{"wind_gust": 3}',
  );
});

Deno.test("operator endpoints answer 401 invalid_token for a device key as Bearer, 403 for anon", async () => {
  const keys = await stackKeys();
  const device = await createDevice(await createUser());
  const asDevice = { apikey: keys.publishableKey, authorization: `Bearer ${device.key}` };
  for (const name of ["devices", "telemetry-query", "telemetry-batch-status"]) {
    const refused = await jsonOf(await callFunction(name, { headers: asDevice }));
    assertEquals([name, refused.status, refused.body.error.code], [name, 401, "invalid_token"]);
    assertMatch(refused.body.error.message, /device key/);
    const anon = await jsonOf(
      await callFunction(name, { headers: { apikey: keys.publishableKey } }),
    );
    assertEquals([name, anon.status, anon.body.error.code], [name, 403, "forbidden"]);
  }
});
