/**
 * The handler's answers that never reach the database or Redis: routing, method, credentials,
 * body and id validation. Creating, listing, revoking and rotating are tested end to end in
 * tests/integration/devices_test.ts.
 */
import { assertEquals } from "@std/assert";
import type { Deps } from "../../../shared/platform/deps.ts";
import { createNoDbDeps } from "../../../tests/_no_db_deps.ts";
import { signHs256 } from "../../../shared/auth/jwt.ts";
import { createDevicesHandler } from "./handler.ts";

const SECRET = "a-test-secret-that-is-at-least-32-characters";
const NOW = new Date("2026-11-26T12:00:00.000Z");
const USER = "11111111-1111-4111-8111-111111111111";

function fakeDeps(): Deps {
  return createNoDbDeps({ SUPABASE_JWT_SECRET: SECRET }, NOW).deps;
}

async function userHeaders(): Promise<Record<string, string>> {
  // identifyCaller checks expiry against the real clock.
  const iat = Math.floor(Date.now() / 1000);
  const token = await signHs256(
    { sub: USER, role: "authenticated", aud: "authenticated", iat, exp: iat + 3600 },
    SECRET,
  );
  return { authorization: `Bearer ${token}` };
}

interface Answer {
  status: number;
  allow: string | null;
  body: { success?: boolean; error?: { code: string; message: string; details?: unknown } };
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await createDevicesHandler(fakeDeps())(
    new Request(`http://functions.test${path}`, init),
  );
  return {
    status: response.status,
    allow: response.headers.get("allow"),
    body: await response.json(),
  };
}

Deno.test("devices answers 400 naming name when it is empty", async () => {
  const { status, body } = await call("/devices", {
    method: "POST",
    headers: { ...(await userHeaders()), "content-type": "application/json" },
    body: JSON.stringify({ name: "" }),
  });
  assertEquals(status, 400);
  assertEquals(body.error, {
    code: "invalid_body",
    message: 'Invalid device: "name" must not be empty',
    details: [{ field: "name", message: "must not be empty" }],
  });
});

Deno.test("devices answers 400 naming name when it is over 100 characters or missing", async () => {
  for (const payload of [{ name: "x".repeat(101) }, {}, { name: 7 }]) {
    const { status, body } = await call("/devices", {
      method: "POST",
      headers: { ...(await userHeaders()), "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    assertEquals(status, 400);
    assertEquals((body.error?.details as { field: string }[])[0]?.field, "name");
  }
});

Deno.test("devices answers 400 for a body that is not JSON and 415 for another type", async () => {
  const headers = await userHeaders();
  const bad = await call("/devices", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: "{name:",
  });
  assertEquals([bad.status, bad.body.error?.code], [400, "invalid_json"]);
  const text = await call("/devices", {
    method: "POST",
    headers: { ...headers, "content-type": "text/plain" },
    body: "name=x",
  });
  assertEquals([text.status, text.body.error?.code], [415, "unsupported_media_type"]);
});

Deno.test("devices answers 400 naming owner_id when service role leaves it out", async () => {
  const { status, body } = await call("/devices", {
    method: "POST",
    headers: { apikey: "sb_secret_test", "content-type": "application/json" },
    body: JSON.stringify({ name: "fleet drone" }),
  });
  assertEquals(status, 400);
  assertEquals(body.error?.details, [
    { field: "owner_id", message: "is required for service role, which owns no devices" },
  ]);
});

Deno.test("devices answers 400 naming id when the device id is not a UUID", async () => {
  for (const action of ["revoke", "rotate"]) {
    const { status, body } = await call(`/devices/not-a-uuid/${action}`, {
      method: "POST",
      headers: await userHeaders(),
    });
    assertEquals(status, 400);
    assertEquals(body.error, {
      code: "invalid_id",
      message: 'Invalid device id "not-a-uuid": "id" must be a UUID',
      details: [{ field: "id", message: "must be a UUID" }],
    });
  }
});

Deno.test("devices answers 401 without a credential and 403 for the publishable key", async () => {
  const missing = await call("/devices");
  assertEquals([missing.status, missing.body.error?.code], [401, "missing_credentials"]);
  const anon = await call("/devices", { headers: { apikey: "sb_publishable_test" } });
  assertEquals([anon.status, anon.body.error?.code], [403, "forbidden"]);
});

Deno.test("devices answers 405 with Allow for a wrong method", async () => {
  const collection = await call("/devices", { method: "DELETE" });
  assertEquals([collection.status, collection.allow], [405, "GET, POST"]);
  const action = await call("/devices/11111111-1111-4111-8111-111111111111/revoke");
  assertEquals([action.status, action.allow], [405, "POST"]);
});

Deno.test("devices answers 404 for an unknown path", async () => {
  for (
    const path of [
      "/devices/11111111-1111-4111-8111-111111111111",
      "/devices/11111111-1111-4111-8111-111111111111/delete",
      "/devices/x/y/revoke",
      "/devices/list",
    ]
  ) {
    const { status, body } = await call(path, { method: "POST", headers: await userHeaders() });
    assertEquals([status, body.error?.code], [404, "not_found"], path);
  }
});
