import { assertEquals } from "@std/assert";
import { isNotable } from "./log_excerpt.ts";

Deno.test("a function's request lines are left out and its errors kept", () => {
  const request = '{"function":"devices","status":201,"level":"info","message":"request"}';
  const error = '{"function":"devices","level":"error","message":"unhandled error","error":"x"}';
  assertEquals(isNotable("function-devices.log", request), false);
  assertEquals(isNotable("function-devices.log", error), true);
  assertEquals(isNotable("function-devices.log", "Listening on http://0.0.0.0:54330/"), true);
});

Deno.test("PostgREST's retry loop and its 2xx answers are left out, the rest kept", () => {
  const retry =
    '{"code":"PGRST000","message":"Database connection error. Retrying the connection."}';
  const schema =
    '{"code":"PGRST002","message":"Could not query the database for the schema cache"}';
  const request = (status: number) =>
    `127.0.0.1 - authenticated [06/Dec/2026:03:37:55 +0000] "POST /rpc/create_device HTTP/1.1" ${status} - "" "Deno/2"`;
  assertEquals(isNotable("postgrest.log", retry), false);
  assertEquals(isNotable("postgrest.log", request(200)), false);
  assertEquals(isNotable("postgrest.log", schema), true);
  assertEquals(isNotable("postgrest.log", request(401)), true);
  assertEquals(isNotable("postgrest.log", request(500)), true);
  assertEquals(isNotable("postgrest.log", "Schema cache loaded"), true);
});

Deno.test("the supervisor's and gateway's lines are kept, blank lines and Redis's left out", () => {
  assertEquals(isNotable("supervisor.log", "function-health (pid 1) was gone"), true);
  assertEquals(isNotable("gateway.log", "upstream refused"), true);
  assertEquals(isNotable("redis.log", "Ready to accept connections"), false);
  assertEquals(isNotable("supervisor.log", "  "), false);
});
