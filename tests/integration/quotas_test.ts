/**
 * Quotas end to end (issue 21 §4), through the gateway to the real functions, PostgREST,
 * Postgres and Redis: per device in frames and bytes (the resume-point GET counted too), per
 * operator in devices, reads and live streams, and what unknown device keys may cost. Each
 * quota answers 429 with Retry-After.
 *
 * The counters are minute windows in Redis that every isolate adds to, so a test puts a
 * counter at its limit in Redis (as other isolates would have) rather than sending thousands of
 * requests; the function learns the total at its next sync, and the request after it is refused.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { deviceCacheKey, sha256Hex } from "../../shared/auth/device_auth.ts";
import { liveSlotsKey } from "../../shared/auth/operator_quota.ts";
import { limitsHashKey } from "../../shared/auth/rate_limit.ts";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  REST_URL,
  sendTelemetry,
  sql,
  stackKeys,
  type TestDevice,
  type TestUser,
} from "./_helpers.ts";
import { redis } from "./_redis.ts";

/** The defaults of shared/platform/env_schema.ts, which the local stack runs with. */
const FRAMES_PER_MINUTE = 2_000 * 60;
const BYTES_PER_MINUTE = 2 * 1024 * 1024 * 60;
const REQUESTS_PER_MINUTE = 1_200;
const UNKNOWN_KEYS_PER_MINUTE = 60;
const QUERIES_PER_MINUTE = 600;
const LIVE_STREAMS = 10;

const currentMinute = () => Math.floor(Date.now() / 60_000);

/** Waits for a fresh minute when this one ends too soon for a test's few requests. */
async function awayFromMinuteEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 200));
}

/** Sets a counter of this minute's hash, as other isolates would have counted. */
async function setCounter(field: string, value: number): Promise<() => Promise<void>> {
  const hash = limitsHashKey(currentMinute());
  await redis("HSET", hash, field, value);
  return async () => void await redis("HDEL", hash, field);
}

/** Repeats a call until it answers `status` or `tries` run out (a sync runs after the answer). */
async function untilStatus(
  status: number,
  call: () => Promise<Response>,
  tries = 20,
): Promise<Response> {
  for (let i = 1;; i++) {
    const response = await call();
    if (response.status === status || i === tries) return response;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function assert429(response: Response, code: string): Promise<Record<string, unknown>> {
  const { status, body } = await jsonOf(response);
  assertEquals([status, body.error?.code], [429, code]);
  const retryAfter = Number(response.headers.get("retry-after"));
  assert(retryAfter >= 1, `Retry-After is ${response.headers.get("retry-after")}`);
  return body.error;
}

async function newDevice(): Promise<TestDevice> {
  return await createDevice(await createUser());
}

function query(user: TestUser, deviceId: string, extra = ""): Promise<Response> {
  return callFunction("telemetry-query", {
    headers: { authorization: `Bearer ${user.token}` },
    path: `?device_id=${deviceId}&limit=5${extra}`,
  });
}

Deno.test("telemetry-parse answers 429 frame_quota_exceeded once the device's frames this minute reach TELEMETRY_FRAMES_PER_SECOND x 60", async () => {
  await awayFromMinuteEnd();
  const device = await newDevice();
  const clear = await setCounter(`frames:${device.id}`, FRAMES_PER_MINUTE - 2);
  try {
    // Two lines fit exactly; the function learns the total when it stores them.
    assertEquals((await jsonOf(await sendTelemetry(device, "roll:1\nroll:2"))).status, 200);
    const error = await assert429(await sendTelemetry(device, "roll:3"), "frame_quota_exceeded");
    assertMatch(String(error.message), /more than 120000 frames this minute \(2000 frames\/s\)/);
    const stored = await sql(
      `select count(*) from public.telemetry_frames where device_id = '${device.id}'`,
    );
    assertEquals(stored.trim(), "2");
  } finally {
    await clear();
  }
});

Deno.test("telemetry-parse answers 429 byte_quota_exceeded for a body that would pass TELEMETRY_BYTES_PER_SECOND x 60", async () => {
  await awayFromMinuteEnd();
  const device = await newDevice();
  const clear = await setCounter(`bytes:${device.id}`, BYTES_PER_MINUTE - 100);
  try {
    // 6 bytes pass and make the function learn the total; 200 bytes would not fit in the 94 left.
    assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
    const body = Array.from({ length: 20 }, (_, i) => `roll:${i}.5`).join("\n");
    const error = await assert429(await sendTelemetry(device, body), "byte_quota_exceeded");
    assertEquals((error.details as Record<string, number>).limit, BYTES_PER_MINUTE);
  } finally {
    await clear();
  }
});

Deno.test("telemetry-parse counts the resume-point GET against the device's request rate", async () => {
  await awayFromMinuteEnd();
  const device = await newDevice();
  const clear = await setCounter(`requests:${device.id}`, REQUESTS_PER_MINUTE - 1);
  const resume = () =>
    callFunction("telemetry-parse", { headers: { authorization: `Bearer ${device.key}` } });
  try {
    const first = await jsonOf(await resume());
    assertEquals([first.status, first.body.device_id], [200, device.id]);
    // The GET's count reaches Redis after its answer; then the device is at its limit.
    await assert429(await untilStatus(429, resume), "rate_limited");
    await assert429(await sendTelemetry(device, "roll:1"), "rate_limited");
  } finally {
    await clear();
  }
});

Deno.test("telemetry-parse refuses a malformed device key and remembers an unknown one without asking the database again", async () => {
  const malformed = await jsonOf(await sendTelemetry({ key: "not-a-device-key" }, "roll:1"));
  assertEquals([malformed.status, malformed.body.error.code], [401, "invalid_device_key"]);

  const unknownKey = `dtk_${crypto.randomUUID().replaceAll("-", "")}${"0".repeat(16)}`;
  const first = await jsonOf(await sendTelemetry({ key: unknownKey }, "roll:1"));
  assertEquals([first.status, first.body.error.code], [401, "invalid_device_key"]);
  assertEquals(await redis("GET", deviceCacheKey(sha256Hex(unknownKey))), "unknown");

  // With the address at its limit, the remembered key is still a plain 401 (no lookup, so
  // nothing to limit), while a key never seen is refused before any lookup.
  await awayFromMinuteEnd();
  const clear = await setCounter("unknown_keys:127.0.0.1", UNKNOWN_KEYS_PER_MINUTE);
  try {
    const again = await jsonOf(await sendTelemetry({ key: unknownKey }, "roll:1"));
    assertEquals([again.status, again.body.error.code], [401, "invalid_device_key"]);
    const fresh = `dtk_${"ab".repeat(24)}`;
    // The gateway replaces a client's x-forwarded-for, so a forged address changes nothing.
    const error = await assert429(
      await sendTelemetry({ key: fresh }, "roll:1", { "x-forwarded-for": "10.9.9.9" }),
      "unknown_key_rate_limited",
    );
    assertEquals(error.details, { limit: UNKNOWN_KEYS_PER_MINUTE, window_s: 60 });
  } finally {
    await clear();
  }
});

Deno.test("telemetry-parse counts each unknown key's lookup per client address", async () => {
  await awayFromMinuteEnd();
  const field = "unknown_keys:127.0.0.1";
  const hash = limitsHashKey(currentMinute());
  const before = Number(await redis("HGET", hash, field) ?? 0);
  const keys = Array.from(
    { length: 3 },
    () => `dtk_${crypto.randomUUID().replaceAll("-", "")}${"1".repeat(16)}`,
  );
  for (const key of keys) {
    assertEquals((await jsonOf(await sendTelemetry({ key }, "roll:1"))).status, 401);
  }
  assertEquals(Number(await redis("HGET", hash, field)) - before, 3);
  // The hash of a minute has no TTL: no eviction policy that spares persistent keys drops it.
  assertEquals(await redis("TTL", hash), -1);
});

Deno.test("devices and PostgREST's create_device answer 429 device_limit_reached at the owner's cap", async () => {
  const owner = await createUser();
  const cap = Number((await sql("select max_devices_per_owner from telemetry.settings")).trim());
  await sql(`insert into telemetry.devices (owner_id, name, key_hash, key_prefix)
    select '${owner.id}', 'fleet ' || i, encode(extensions.digest('${owner.id}' || i, 'sha256'), 'hex'), 'dtk_00000000'
    from generate_series(1, ${cap}) as i`);
  const viaFunction = await callFunction("devices", {
    method: "POST",
    headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "one too many" }),
  });
  assertEquals(viaFunction.headers.get("retry-after"), "3600");
  const error = await assert429(viaFunction, "device_limit_reached");
  assertMatch(String(error.message), new RegExp(`holds ${cap} devices`));

  const keys = await stackKeys();
  const viaPostgrest = await fetch(`${REST_URL}/rpc/create_device`, {
    method: "POST",
    headers: {
      apikey: keys.publishableKey,
      authorization: `Bearer ${owner.token}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ p_name: "around the function" }),
  });
  assertEquals(viaPostgrest.headers.get("retry-after"), "3600");
  // PostgREST's own error shape: {code, message, details, hint}.
  const refused = await jsonOf(viaPostgrest);
  assertEquals([refused.status, refused.body.code], [429, "device_limit_reached"]);
  assertEquals(
    (await sql(`select count(*) from telemetry.devices where owner_id = '${owner.id}'`)).trim(),
    String(cap),
  );

  // Revoking one makes room for one.
  await sql(`update telemetry.devices set revoked_at = now()
    where id = (select id from telemetry.devices where owner_id = '${owner.id}' limit 1)`);
  const made = await createDevice(owner, "replacement");
  assertMatch(made.key, /^dtk_/);
});

Deno.test("telemetry-query answers 429 query_rate_limited over OPERATOR_QUERIES_PER_MINUTE; service role is not limited", async () => {
  await awayFromMinuteEnd();
  const device = await newDevice();
  const clear = await setCounter(`queries:${device.owner.id}`, QUERIES_PER_MINUTE - 1);
  try {
    assertEquals((await jsonOf(await query(device.owner, device.id))).status, 200);
    await assert429(
      await untilStatus(429, () => query(device.owner, device.id)),
      "query_rate_limited",
    );
    // Analytics reads count against the same quota (each function learns it at its next sync).
    const analytics = () =>
      callFunction("telemetry-analytics", {
        headers: { authorization: `Bearer ${device.owner.token}` },
        path: "/monitor",
      });
    await assert429(await untilStatus(429, analytics), "query_rate_limited");
    // Another operator is not affected.
    const other = await newDevice();
    assertEquals((await jsonOf(await query(other.owner, other.id))).status, 200);
    const service = await callFunction("telemetry-query", {
      headers: { apikey: (await stackKeys()).secretKey },
      path: `?device_id=${device.id}&limit=1`,
    });
    assertEquals((await jsonOf(service)).status, 200);
  } finally {
    await clear();
  }
});

Deno.test("telemetry-live answers 429 live_stream_limit at OPERATOR_MAX_LIVE_STREAMS and frees a slot when a stream ends", async () => {
  const device = await newDevice();
  const live = (duration: number) =>
    callFunction("telemetry-live", {
      headers: { authorization: `Bearer ${device.owner.token}` },
      path: `?device_id=${device.id}&duration=${duration}`,
    });
  const slots = liveSlotsKey(device.owner.id);

  // One real stream holds a slot while it is open and gives it back at its end.
  const open = await live(1);
  assertEquals(open.status, 200);
  assertEquals(await redis("ZCARD", slots), 1);
  await open.text();
  for (let i = 0; i < 20 && await redis("ZCARD", slots) !== 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assertEquals(await redis("ZCARD", slots), 0);

  // All slots taken (streams of other isolates, ending in 90 s): refused until the first ends.
  const lapse = Date.now() + 90_000;
  for (let i = 0; i < LIVE_STREAMS; i++) await redis("ZADD", slots, lapse + i, `other-${i}`);
  try {
    const refused = await live(5);
    const retryAfter = Number(refused.headers.get("retry-after"));
    await assert429(refused, "live_stream_limit");
    assert(retryAfter > 80 && retryAfter <= 91, `Retry-After ${retryAfter}`);
    // Another operator is not affected.
    const other = await newDevice();
    const theirs = await callFunction("telemetry-live", {
      headers: { authorization: `Bearer ${other.owner.token}` },
      path: `?device_id=${other.id}&duration=1`,
    });
    assertEquals(theirs.status, 200);
    await theirs.text();
  } finally {
    await redis("DEL", slots);
  }
});
