/**
 * devices end to end: through the gateway to the real function, PostgREST, Postgres and Redis of
 * the local stack. Keys are checked against telemetry-parse, the function that uses them.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import { deviceCacheKey, sha256Hex } from "../../shared/auth/device_auth.ts";
import { signHs256 } from "../../shared/auth/jwt.ts";
import { USER_TOKEN_ISSUER } from "../../scripts/stack/keys.ts";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
  sql,
  stackKeys,
  type TestUser,
} from "./_helpers.ts";
import { redis } from "./_redis.ts";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function asUser(user: TestUser): Record<string, string> {
  return { authorization: `Bearer ${user.token}` };
}

function post(path: string, headers: Record<string, string>, body?: unknown) {
  return callFunction("devices", {
    method: "POST",
    path,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function listAs(headers: Record<string, string>) {
  return await jsonOf(await callFunction("devices", { headers }));
}

Deno.test("devices creates a device with 201 and shows its key once", async () => {
  const owner = await createUser();
  const { status, body } = await jsonOf(await post("", asUser(owner), { name: "  scout 1  " }));
  assertEquals(status, 201);
  assertEquals(Object.keys(body).sort(), ["device", "success", "timestamp"]);
  assertEquals(body.success, true);
  assertMatch(body.timestamp, ISO);
  assertEquals(Object.keys(body.device).sort(), ["created_at", "id", "key", "key_prefix", "name"]);
  assertEquals(body.device.name, "scout 1");
  assertMatch(body.device.key, /^dtk_[0-9a-f]{48}$/);
  assertEquals(body.device.key_prefix, body.device.key.slice(0, 12));
  assertMatch(body.device.created_at, ISO);
  // Only the hash is stored, and the device belongs to the caller.
  assertEquals(
    await sql(
      `select owner_id || ' ' || key_hash from telemetry.devices where id = '${body.device.id}'`,
    ),
    `${owner.id} ${await sha256Hex(body.device.key)}`,
  );
  // The key works at once.
  assertEquals((await jsonOf(await sendTelemetry(body.device, "roll:1"))).status, 200);
});

Deno.test("devices lists only the caller's devices, without keys", async () => {
  const alice = await createUser();
  const bob = await createUser();
  const a1 = await createDevice(alice, "a1");
  const a2 = await createDevice(alice, "a2");
  const b1 = await createDevice(bob, "b1");

  const { status, body } = await listAs(asUser(alice));
  assertEquals(status, 200);
  assertEquals(Object.keys(body).sort(), ["count", "devices", "success", "timestamp"]);
  assertEquals(body.count, 2);
  assertEquals(body.devices.map((d: { id: string }) => d.id).sort(), [a1.id, a2.id].sort());
  for (const device of body.devices) {
    assertEquals(Object.keys(device).sort(), [
      "created_at",
      "id",
      "key_prefix",
      "last_seen_at",
      "name",
      "revoked_at",
    ]);
    assertEquals(device.revoked_at, null);
  }
  const bobs = await listAs(asUser(bob));
  assertEquals(bobs.body.devices.map((d: { id: string }) => d.id), [b1.id]);

  // Service role sees every tenant's devices.
  const keys = await stackKeys();
  const all = await listAs({ apikey: keys.secretKey });
  assertEquals(all.status, 200);
  const ids = new Set(all.body.devices.map((d: { id: string }) => d.id));
  assert([a1.id, a2.id, b1.id].every((id) => ids.has(id)));
});

Deno.test("devices revoke answers the revoked device and the key gets 401 at once", async () => {
  const owner = await createUser();
  const device = await createDevice(owner, "to revoke");
  // A first request caches the key's device for DEVICE_AUTH_CACHE_SECONDS.
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
  const cacheKey = deviceCacheKey(await sha256Hex(device.key));
  assertNotEquals(await redis("GET", cacheKey), null);

  const { status, body } = await jsonOf(await post(`/${device.id}/revoke`, asUser(owner)));
  assertEquals(status, 200);
  assertEquals(Object.keys(body).sort(), ["device", "success", "timestamp"]);
  assertEquals(body.device.id, device.id);
  assertMatch(body.device.revoked_at, ISO);
  assertEquals(await redis("GET", cacheKey), null);

  const refused = await jsonOf(await sendTelemetry(device, "roll:2"));
  assertEquals(refused.status, 401);
  assertEquals(refused.body.success, false);

  // Revoking again keeps the first time; the list shows it.
  const again = await jsonOf(await post(`/${device.id}/revoke`, asUser(owner)));
  assertEquals(again.status, 200);
  assertEquals(again.body.device.revoked_at, body.device.revoked_at);
  const listed = await listAs(asUser(owner));
  assertEquals(listed.body.devices[0].revoked_at, body.device.revoked_at);
});

Deno.test("devices rotate gives a new key, the old one gets 401 at once", async () => {
  const owner = await createUser();
  const device = await createDevice(owner, "to rotate");
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
  const oldCacheKey = deviceCacheKey(await sha256Hex(device.key));
  assertNotEquals(await redis("GET", oldCacheKey), null);
  const created = await sql(
    `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') from telemetry.devices where id = '${device.id}'`,
  );

  const { status, body } = await jsonOf(await post(`/${device.id}/rotate`, asUser(owner)));
  assertEquals(status, 200);
  assertEquals(Object.keys(body.device).sort(), ["created_at", "id", "key", "key_prefix", "name"]);
  assertEquals([body.device.id, body.device.name], [device.id, "to rotate"]);
  assertMatch(body.device.key, /^dtk_[0-9a-f]{48}$/);
  assertNotEquals(body.device.key, device.key);
  assertEquals(body.device.key_prefix, body.device.key.slice(0, 12));
  assertEquals(
    new Date(body.device.created_at).toISOString(),
    new Date(`${created}Z`).toISOString(),
  );
  assertEquals(await redis("GET", oldCacheKey), null);

  assertEquals((await jsonOf(await sendTelemetry(device, "roll:2"))).status, 401);
  assertEquals((await jsonOf(await sendTelemetry({ key: body.device.key }, "roll:3"))).status, 200);

  // A revoked device cannot be rotated back to life.
  assertEquals((await jsonOf(await post(`/${device.id}/revoke`, asUser(owner)))).status, 200);
  const dead = await jsonOf(await post(`/${device.id}/rotate`, asUser(owner)));
  assertEquals(dead.status, 404);
  assertEquals(dead.body.error.message, `Device "${device.id}" was not found or is revoked`);
});

Deno.test("devices answers 404 naming the id for another tenant's or an unknown device", async () => {
  const alice = await createUser();
  const mallory = await createUser();
  const device = await createDevice(alice, "alice's");
  for (const action of ["revoke", "rotate"]) {
    const { status, body } = await jsonOf(await post(`/${device.id}/${action}`, asUser(mallory)));
    assertEquals(status, 404, action);
    assertEquals(body.error.code, "device_not_found");
    assert(body.error.message.includes(device.id), body.error.message);
  }
  const unknown = crypto.randomUUID();
  const { status, body } = await jsonOf(await post(`/${unknown}/revoke`, asUser(alice)));
  assertEquals(status, 404);
  assert(body.error.message.includes(unknown));
  // Alice's device is untouched and still works.
  assertEquals(
    await sql(`select revoked_at is null from telemetry.devices where id = '${device.id}'`),
    "t",
  );
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
});

Deno.test("devices answers 400 naming the field for a bad name or device id", async () => {
  const owner = await createUser();
  for (const name of ["", "   ", "x".repeat(101)]) {
    const { status, body } = await jsonOf(await post("", asUser(owner), { name }));
    assertEquals(status, 400, JSON.stringify(name));
    assertEquals(body.error.code, "invalid_body");
    assertEquals(body.error.details[0].field, "name");
    assert(body.error.message.includes('"name"'));
  }
  const missing = await jsonOf(await post("", asUser(owner), {}));
  assertEquals([missing.status, missing.body.error.details[0].field], [400, "name"]);
  for (const action of ["revoke", "rotate"]) {
    const { status, body } = await jsonOf(await post(`/12345/${action}`, asUser(owner)));
    assertEquals(status, 400);
    assertEquals(body.error.details, [{ field: "id", message: "must be a UUID" }]);
  }
  assertEquals(
    await sql(`select count(*) from telemetry.devices where owner_id = '${owner.id}'`),
    "0",
  );
});

Deno.test("devices answers 405 for a wrong method and 404 for an unknown path", async () => {
  const owner = await createUser();
  const deleted = await callFunction("devices", { method: "DELETE", headers: asUser(owner) });
  assertEquals(deleted.headers.get("allow"), "GET, POST");
  assertEquals((await jsonOf(deleted)).status, 405);
  const id = crypto.randomUUID();
  const get = await callFunction("devices", { path: `/${id}/revoke`, headers: asUser(owner) });
  assertEquals((await jsonOf(get)).status, 405);
  for (const path of [`/${id}`, `/${id}/disable`, "/mine"]) {
    const { status, body } = await jsonOf(await post(path, asUser(owner)));
    assertEquals([status, body.error.code], [404, "not_found"], path);
  }
});

Deno.test("devices answers 401 without a valid credential and 403 for the publishable key", async () => {
  const keys = await stackKeys();
  const none = await jsonOf(await callFunction("devices"));
  assertEquals([none.status, none.body.error.code], [401, "missing_credentials"]);
  const forged = await signHs256(
    { sub: crypto.randomUUID(), role: "authenticated", exp: Math.floor(Date.now() / 1000) + 60 },
    "not-the-stack-secret-but-long-enough-for-hs256",
  );
  const bad = await jsonOf(
    await callFunction("devices", { headers: { authorization: `Bearer ${forged}` } }),
  );
  assertEquals([bad.status, bad.body.error.code], [401, "invalid_token"]);
  const anon = await jsonOf(await post("", { apikey: keys.publishableKey }, { name: "x" }));
  assertEquals([anon.status, anon.body.error.code], [403, "forbidden"]);
  const legacyAnon = await jsonOf(
    await callFunction("devices", { headers: { authorization: `Bearer ${keys.anonKey}` } }),
  );
  assertEquals(legacyAnon.status, 403);
});

Deno.test("devices lets service role create for an owner, with the secret key or legacy JWT", async () => {
  const keys = await stackKeys();
  const owner = await createUser();
  for (
    const headers of [{ apikey: keys.secretKey }, {
      authorization: `Bearer ${keys.serviceRoleKey}`,
    }]
  ) {
    const { status, body } = await jsonOf(
      await post("", headers, { name: "fleet", owner_id: owner.id }),
    );
    assertEquals(status, 201);
    assertEquals(
      await sql(`select owner_id from telemetry.devices where id = '${body.device.id}'`),
      owner.id,
    );
  }
  assertEquals((await listAs(asUser(owner))).body.count, 2);
  const noOwner = await jsonOf(await post("", { apikey: keys.secretKey }, { name: "orphan" }));
  assertEquals([noOwner.status, noOwner.body.error.details[0].field], [400, "owner_id"]);
  const ghost = await jsonOf(
    await post("", { apikey: keys.secretKey }, { name: "ghost", owner_id: crypto.randomUUID() }),
  );
  assertEquals([ghost.status, ghost.body.error.details[0].field], [400, "owner_id"]);

  // Service role revokes any tenant's device.
  const device = await createDevice(owner, "revoked by ops");
  const revoked = await jsonOf(await post(`/${device.id}/revoke`, { apikey: keys.secretKey }));
  assertEquals(revoked.status, 200);
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 401);
});

Deno.test("devices refuses a user creating a device for someone else", async () => {
  const alice = await createUser();
  const bob = await createUser();
  const { status, body } = await jsonOf(
    await post("", asUser(alice), { name: "x", owner_id: bob.id }),
  );
  assertEquals([status, body.error.code], [403, "forbidden"]);
  assertEquals(
    await sql(`select count(*) from telemetry.devices where owner_id = '${bob.id}'`),
    "0",
  );
});

Deno.test("devices accepts a legacy HS256 user token", async () => {
  const keys = await stackKeys();
  const user = await createUser();
  const now = Math.floor(Date.now() / 1000);
  const token = await signHs256(
    {
      sub: user.id,
      role: "authenticated",
      aud: "authenticated",
      iss: USER_TOKEN_ISSUER,
      iat: now,
      exp: now + 600,
    },
    keys.jwtSecret,
  );
  const created = await jsonOf(
    await post("", { authorization: `Bearer ${token}` }, { name: "legacy" }),
  );
  assertEquals(created.status, 201);
  const listed = await listAs({ authorization: `Bearer ${token}` });
  assertEquals(listed.body.devices.map((d: { id: string }) => d.id), [created.body.device.id]);
});
