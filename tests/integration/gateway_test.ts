/**
 * The local gateway on :54321 behaves like Supabase's: PostgREST behind /rest/v1 with API keys,
 * functions behind /functions/v1 (every function checks its callers itself: verify_jwt is off).
 */
import { assertEquals, assertMatch } from "@std/assert";
import { callFunction, jsonOf, REST_URL, stackKeys } from "./_helpers.ts";

Deno.test("gateway answers /rest/v1/ with the anon key and the publishable key", async () => {
  const keys = await stackKeys();
  for (const apikey of [keys.anonKey, keys.publishableKey]) {
    const { status, body } = await jsonOf(await fetch(`${REST_URL}/`, { headers: { apikey } }));
    assertEquals(status, 200);
    assertEquals(body.swagger, "2.0");
  }
});

Deno.test("gateway refuses /rest/v1/ without an API key or with an unknown one", async () => {
  const missing = await jsonOf(await fetch(`${REST_URL}/`));
  assertEquals(missing.status, 401);
  assertMatch(missing.body.message, /No API key/);
  const unknown = await jsonOf(
    await fetch(`${REST_URL}/`, { headers: { apikey: "sb_publishable_nope" } }),
  );
  assertEquals(unknown.status, 401);
});

Deno.test("gateway turns a secret key into the service_role for PostgREST", async () => {
  const keys = await stackKeys();
  const asService = await jsonOf(
    await fetch(`${REST_URL}/rpc/get_batch_status`, {
      method: "POST",
      headers: { apikey: keys.secretKey, "content-type": "application/json" },
      body: "{}",
    }),
  );
  assertEquals(asService.status, 200);
  assertEquals(typeof asService.body.pending_records, "number");
  const asAnon = await jsonOf(
    await fetch(`${REST_URL}/rpc/get_batch_status`, {
      method: "POST",
      headers: { apikey: keys.publishableKey, "content-type": "application/json" },
      body: "{}",
    }),
  );
  // get_batch_status is not granted to anon: PostgREST refuses the anon role.
  assertEquals(asAnon.status === 401 || asAnon.status === 403 || asAnon.status === 404, true);
});

Deno.test("gateway answers health with supabase_connected from a real query", async () => {
  const { status, body } = await jsonOf(await callFunction("health"));
  assertEquals(status, 200);
  assertEquals(body.supabase_connected, true);
  assertEquals(body.cache_connected, true);
  assertEquals(body.status === "healthy" || body.status === "degraded", true);
  // Anonymous: the pipeline's counts are for service role (tests/integration/tenant_scope_test.ts).
  assertEquals(body.batch_status.pending_records, null);
  assertEquals(body.batch_status.batch_size, 500);
  assertEquals(body.batch_status.supabase_healthy, true);
});

Deno.test("gateway answers 404 for a function that does not exist", async () => {
  const { status, body } = await jsonOf(await callFunction("no-such-function"));
  assertEquals(status, 404);
  assertEquals(body.code, "NOT_FOUND");
});
