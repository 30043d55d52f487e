/**
 * telemetry-parse end to end: through the gateway to the real function, PostgREST, Postgres and
 * Redis of the local stack.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  createDevice,
  createUser,
  FUNCTIONS_URL,
  jsonOf,
  sendTelemetry,
  sql,
  stackKeys,
  type TestDevice,
} from "./_helpers.ts";
import { PORTS } from "../../scripts/stack/layout.ts";

async function stagedAndStored(deviceId: string): Promise<number> {
  return Number(
    await sql(`select count(*) from public.telemetry_frames where device_id = '${deviceId}'`),
  );
}

async function newDevice(): Promise<TestDevice> {
  return await createDevice(await createUser());
}

Deno.test("telemetry-parse stores the reference example and answers the reference shape", async () => {
  const device = await newDevice();
  const { status, body } = await jsonOf(
    await sendTelemetry(device, "roll:15.2,pitch:8.1,yaw:45.0,alt:150,bat_v:12.4,armed:1"),
  );
  assertEquals(status, 200);
  assertEquals(Object.keys(body).sort(), [
    "batch_status",
    "parsed_data",
    "stored",
    "success",
    "timestamp",
  ]);
  assertEquals(body.success, true);
  assertEquals(body.stored, true);
  assertEquals(body.parsed_data.roll_degrees, 15.2);
  assertEquals(body.parsed_data.pitch_degrees, 8.1);
  assertEquals(body.parsed_data.yaw_degrees, 45);
  assertEquals(body.parsed_data.altitude_m, 150);
  assertEquals(body.parsed_data.battery_voltage_v, 12.4);
  assertEquals(body.parsed_data.armed, true);
  assertEquals(
    body.parsed_data.raw_data,
    "roll:15.2,pitch:8.1,yaw:45.0,alt:150,bat_v:12.4,armed:1",
  );
  assertEquals(typeof body.parsed_data.parser_version, "string");
  assertEquals(body.parsed_data.data_source, "kv");
  assertEquals(Object.keys(body.batch_status).sort(), [
    "batch_full",
    "batch_size",
    "pending_records",
  ]);
  assertEquals(
    await sql(
      `select roll_degrees || ',' || altitude_m || ',' || armed from public.telemetry_frames where device_id = '${device.id}'`,
    ),
    "15.2,150,true",
  );
  // The receive time the device is told is the one stored.
  assertEquals(
    await sql(
      `select recorded_at = '${body.parsed_data.recorded_at}'::timestamptz from public.telemetry_frames where device_id = '${device.id}'`,
    ),
    "t",
  );
});

Deno.test("telemetry-parse stores the good lines of a mixed body and dead-letters the bad ones", async () => {
  const device = await newDevice();
  const body = [
    "roll:1,pitch:2,ts:2026-01-01T00:00:00Z",
    "roll:400,pitch:2,ts:2026-01-01T00:00:01Z",
    "roll:3,pitch:4,ts:2026-01-01T00:00:02Z",
    "this is not telemetry",
  ].join("\n");
  const { status, body: answer } = await jsonOf(await sendTelemetry(device, body));
  assertEquals(status, 200);
  assertEquals(answer.accepted, 2);
  assertEquals(answer.rejected, 2);
  assertEquals(answer.parsed_data, null);
  assertEquals(answer.errors.map((e: { line: number }) => e.line), [2, 4]);
  assertMatch(answer.errors[0].reason, /roll_degrees/);
  assertEquals(await stagedAndStored(device.id), 2);
  assertEquals(
    await sql(
      `select string_agg(line_number::text, ',' order by line_number) from public.telemetry_rejects where device_id = '${device.id}'`,
    ),
    "2,4",
  );
  assertEquals(
    await sql(
      `select raw_text from public.telemetry_rejects where device_id = '${device.id}' and line_number = 4`,
    ),
    "this is not telemetry",
  );
});

Deno.test("telemetry-parse answers 422 and keeps the lines when every frame is invalid", async () => {
  const device = await newDevice();
  const { status, body } = await jsonOf(await sendTelemetry(device, "roll:abc\npitch:999"));
  assertEquals(status, 422);
  assertEquals(body.success, false);
  assertEquals(body.error.code, "invalid_telemetry");
  assertEquals(body.error.details.rejected, 2);
  assertEquals(await stagedAndStored(device.id), 0);
  assertEquals(
    await sql(`select count(*) from public.telemetry_rejects where device_id = '${device.id}'`),
    "2",
  );
});

Deno.test("telemetry-parse stores frames without timestamps as separate rows", async () => {
  const device = await newDevice();
  const lines = Array.from({ length: 50 }, (_, i) => `roll:${i % 90},alt:${i}`).join("\n");
  const first = await jsonOf(await sendTelemetry(device, lines));
  const second = await jsonOf(await sendTelemetry(device, lines));
  assertEquals([first.status, second.status], [200, 200]);
  assertEquals(await stagedAndStored(device.id), 100);
});

Deno.test("telemetry-parse with an Idempotency-Key stores a retried request once", async () => {
  const device = await newDevice();
  const key = crypto.randomUUID();
  const lines = "roll:1,alt:10\nroll:2,alt:20\nroll:3,alt:30";
  const first = await sendTelemetry(device, lines, { "idempotency-key": key });
  const firstBody = await jsonOf(first);
  const retry = await sendTelemetry(device, lines, { "idempotency-key": key });
  const retryBody = await jsonOf(retry);
  assertEquals(firstBody.status, 200);
  assertEquals(retryBody.status, 200);
  assertEquals(retryBody.body, firstBody.body);
  assertEquals(retry.headers.get("idempotent-replayed"), "true");
  assertEquals(await stagedAndStored(device.id), 3);
});

Deno.test("telemetry-parse with store=false validates and stores nothing", async () => {
  const device = await newDevice();
  const { status, body } = await jsonOf(
    await sendTelemetry(device, "roll:15.2,pitch:8.1,alt:150", {}, { store: "false" }),
  );
  assertEquals(status, 200);
  assertEquals(body.stored, false);
  assertEquals(body.parsed_data.roll_degrees, 15.2);
  assertEquals(await stagedAndStored(device.id), 0);
});

Deno.test("telemetry-parse reads JSON arrays, NDJSON and the data envelope", async () => {
  const device = await newDevice();
  const array = await jsonOf(
    await sendTelemetry(
      device,
      JSON.stringify([{ roll: 1, ts: "2026-02-01T00:00:00Z" }, {
        roll: 2,
        ts: "2026-02-01T00:00:01Z",
      }]),
      { "content-type": "application/json" },
    ),
  );
  assertEquals([array.status, array.body.accepted], [200, 2]);
  const ndjson = await jsonOf(
    await sendTelemetry(device, '{"roll":3}\n{"roll":4,"mystery":"kept"}\n', {
      "content-type": "application/x-ndjson",
    }),
  );
  assertEquals([ndjson.status, ndjson.body.accepted], [200, 2]);
  const envelope = await jsonOf(
    await sendTelemetry(device, JSON.stringify({ data: "roll:15.2,pitch:8.1,alt:150" }), {
      "content-type": "application/json",
    }),
  );
  assertEquals(envelope.status, 200);
  assertEquals(envelope.body.parsed_data.altitude_m, 150);
  assertEquals(
    await sql(
      `select extra->>'mystery' from public.telemetry_frames where device_id = '${device.id}' and extra ? 'mystery'`,
    ),
    "kept",
  );
  assertEquals(await stagedAndStored(device.id), 5);
});

Deno.test("telemetry-parse refuses bad requests with the status that names the problem", async () => {
  const device = await newDevice();
  const cases: [string, Promise<Response>, number, string][] = [
    ["empty body", sendTelemetry(device, "\n\n"), 400, "no_frames"],
    [
      "form content type",
      sendTelemetry(device, "roll:1", { "content-type": "application/x-www-form-urlencoded" }),
      415,
      "unsupported_media_type",
    ],
    [
      "bad store flag",
      sendTelemetry(device, "roll:1", {}, { store: "maybe" }),
      400,
      "invalid_parameter",
    ],
    [
      "bad idempotency key",
      sendTelemetry(device, "roll:1", { "idempotency-key": "has space" }),
      400,
      "invalid_header",
    ],
    [
      "unknown key",
      sendTelemetry({ key: "dtk_not_a_real_key" }, "roll:1"),
      401,
      "invalid_device_key",
    ],
    ["too many lines", sendTelemetry(device, "roll:1\n".repeat(10_001)), 413, "too_many_lines"],
    [
      "too many bytes",
      sendTelemetry(device, "x".repeat(5 * 1024 * 1024 + 1)),
      413,
      "payload_too_large",
    ],
  ];
  for (const [name, pending, status, code] of cases) {
    const { status: got, body } = await jsonOf(await pending);
    assertEquals([name, got, body.error?.code], [name, status, code]);
    assertEquals(body.success, false);
  }
  const missing = await jsonOf(
    await fetch(`${FUNCTIONS_URL}/telemetry-parse`, {
      method: "POST",
      body: "roll:1",
    }),
  );
  assertEquals([missing.status, missing.body.error.code], [401, "missing_device_key"]);
  const wrongMethod = await jsonOf(
    await fetch(`${FUNCTIONS_URL}/telemetry-parse`, {
      // GET answers the resume point (streaming ingest); PUT is no method of this function.
      method: "PUT",
      headers: { "x-device-key": device.key },
      body: "roll:1",
    }),
  );
  assertEquals(wrongMethod.status, 405);
  assertEquals(await stagedAndStored(device.id), 0);
});

Deno.test("telemetry-parse answers 429 with Retry-After once Redis counts the device over its rate", async () => {
  const device = await newDevice();
  const keys = await stackKeys();
  // Other isolates have counted 1200 requests of this device this minute (the default limit).
  const minute = Math.floor(Date.now() / 60_000);
  // The minute's counters are fields of one hash (shared/auth/rate_limit.ts).
  const upstash = await fetch(`http://127.0.0.1:${PORTS.upstash}/`, {
    method: "POST",
    headers: { authorization: `Bearer ${keys.upstashToken}` },
    body: JSON.stringify([
      "HSET",
      `telemetry:v1:limits:${minute}`,
      `requests:${device.id}`,
      "1200",
    ]),
  });
  await upstash.body?.cancel();
  // The function adds its counts to Redis once per database call and learns the total then:
  // the first request may still pass, the next is refused.
  const first = await jsonOf(await sendTelemetry(device, "roll:1"));
  const response = await sendTelemetry(device, "roll:2");
  const { status, body } = await jsonOf(response);
  // The minute may have turned in between; then the counter is fresh and nothing is refused.
  if (Math.floor(Date.now() / 60_000) === minute) {
    assertEquals(first.status, 200);
    assertEquals(status, 429);
    assertEquals(body.error.code, "rate_limited");
    assert(Number(response.headers.get("retry-after")) > 0);
  }
});

Deno.test("telemetry-parse stores concurrent requests of many devices, each once, and refuses only the revoked one", async () => {
  const devices = await Promise.all([newDevice(), newDevice(), newDevice()]);
  const [revoked] = devices;
  await sql(`update telemetry.devices set revoked_at = now() where id = '${revoked?.id}'`);
  const sends = Array.from({ length: 30 }, (_, i) => {
    const device = devices[i % devices.length] as TestDevice;
    return sendTelemetry(device, `roll:${i},ts:2026-04-01T00:00:${String(i).padStart(2, "0")}Z`);
  });
  const statuses = await Promise.all(
    sends.map(async (pending) => (await jsonOf(await pending)).status),
  );
  statuses.forEach((status, i) => assertEquals([i, status], [i, i % 3 === 0 ? 401 : 200]));
  assertEquals(await stagedAndStored(devices[0]?.id ?? ""), 0);
  assertEquals(await stagedAndStored(devices[1]?.id ?? ""), 10);
  assertEquals(await stagedAndStored(devices[2]?.id ?? ""), 10);
});

Deno.test("telemetry-parse keeps two tenants' devices apart", async () => {
  const [a, b] = [await newDevice(), await newDevice()];
  await jsonOf(await sendTelemetry(a, "roll:1"));
  await jsonOf(await sendTelemetry(b, "roll:2\nroll:3"));
  assertEquals(await stagedAndStored(a.id), 1);
  assertEquals(await stagedAndStored(b.id), 2);
  assert(a.owner.id !== b.owner.id);
});

/** A device's text columns in `table` (staging's view or the final table), in recorded_at order. */
async function storedText(
  table: string,
  deviceId: string,
): Promise<{ raw: string; mode: string | null; flight: string | null; extra: unknown }[]> {
  return JSON.parse(
    await sql(
      `select json_agg(json_build_object('raw', raw_data, 'mode', flight_mode,
                                         'flight', flight_id, 'extra', extra)
                       order by recorded_at)
       from ${table} where device_id = '${deviceId}'`,
    ),
  );
}

Deno.test("telemetry-parse stores text with quotes, backslashes, commas and line breaks exactly, staged and flushed", async () => {
  const device = await newDevice();
  // A pretty-printed JSON document: each element's raw text holds line breaks; the values hold
  // every character the staged array literal must escape.
  const note = 'say "hi", (then) \\ leave {x}';
  const body = JSON.stringify(
    [
      { ts: "2026-11-20T10:00:00Z", alt: 10, mode: "POS,HOLD", wind_note: note },
      { ts: "2026-11-20T10:00:01Z", alt: 11, wind_note: "line\nbreak" },
    ],
    null,
    2,
  );
  const { status } = await jsonOf(
    await sendTelemetry(device, body, { "content-type": "application/json" }),
  );
  assertEquals(status, 200);
  const read = (table: string) => storedText(table, device.id);
  const expected = [["POS,HOLD", { "wind_note": note }], [null, { "wind_note": "line\nbreak" }]];
  const staged = await read("public.telemetry_frames");
  assertEquals(staged.map((f) => [f.mode, f.extra]), expected);
  assert(
    staged.every((f) => f.raw.includes("\n")),
    "raw_data keeps its line breaks",
  );
  await sql("select public.flush_telemetry()");
  assertEquals(await read("telemetry.telemetry"), staged);
});

Deno.test("telemetry-parse keeps each NDJSON line in raw_data as sent, quotes, backslashes and non-ASCII included", async () => {
  const device = await newDevice();
  // The staged literal writes raw_data byte by byte (shared/ingest/frame_values.ts): every byte
  // it escapes, and characters of two, three and four UTF-8 bytes.
  const lines = [
    JSON.stringify({ ts: "2026-11-20T11:00:00Z", alt: 1, note: 'a "quoted" \\ back\\\\slash' }),
    JSON.stringify({ ts: "2026-11-20T11:00:01Z", alt: 2, "flight_id": 'f"1\\', note: "é 中 🛩️" }),
    '{"ts":"2026-11-20T11:00:02Z","alt":3,"note":"\\u00e9 escaped \\"q\\" \\\\"}',
  ];
  const { status, body } = await jsonOf(
    await sendTelemetry(device, lines.join("\n"), { "content-type": "application/x-ndjson" }),
  );
  assertEquals([status, body.accepted], [200, 3]);
  const read = (table: string) => storedText(table, device.id);
  const staged = await read("public.telemetry_frames");
  assertEquals(staged.map((f) => f.raw), lines);
  assertEquals(staged.map((f) => f.flight), [null, 'f"1\\', null]);
  assertEquals(staged[1]?.extra, { note: "é 中 🛩️" });
  await sql("select public.flush_telemetry()");
  assertEquals(await read("telemetry.telemetry"), staged);
});
