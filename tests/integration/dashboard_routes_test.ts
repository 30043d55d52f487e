/**
 * The gateway's `/dashboard/` routes: the page and the vendored uPlot are served from this
 * origin with a same-origin Content-Security-Policy, nothing outside the page's folder is, and
 * the local token helper refuses other sites and answers with a token the functions accept.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { GATEWAY_URL } from "../../scripts/stack/layout.ts";
import { FUNCTIONS_URL, jsonOf } from "./_helpers.ts";

Deno.test("GET /dashboard/ serves the page with a same-origin content security policy", async () => {
  const response = await fetch(`${GATEWAY_URL}/dashboard/`);
  const html = await response.text();
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "text/html; charset=utf-8");
  assertStringIncludes(response.headers.get("content-security-policy") ?? "", "default-src 'self'");
  assertStringIncludes(html, 'src="vendor/uPlot.iife.min.js"');
  assert(!/src="(https?:)?\/\//.test(html), "no script or style from another origin");
});

Deno.test("GET /dashboard/vendor/uPlot.iife.min.js serves uPlot from the pinned npm tools", async () => {
  const response = await fetch(`${GATEWAY_URL}/dashboard/vendor/uPlot.iife.min.js`);
  const script = await response.text();
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "text/javascript; charset=utf-8");
  assertStringIncludes(script, "uPlot");
});

Deno.test("GET /dashboard/ serves nothing outside the page's folder", async () => {
  for (const path of ["sse_test.ts", "..%2Fstack%2Fkeys.ts", "vendor/uPlot.d.ts", ".env"]) {
    const response = await fetch(`${GATEWAY_URL}/dashboard/${path}`);
    await response.body?.cancel();
    assertEquals(response.status, 404, path);
  }
});

Deno.test("GET /dashboard/local-token refuses a request from another site", async () => {
  const response = await fetch(`${GATEWAY_URL}/dashboard/local-token`, {
    headers: { "sec-fetch-site": "cross-site" },
  });
  const { status, body } = await jsonOf(response);
  assertEquals(status, 403);
  assertEquals(body.message, "The local token is for the dashboard's own origin only");
});

Deno.test("GET /dashboard/local-token gives a token the functions accept, or says how to get one", async () => {
  const { status, body } = await jsonOf(await fetch(`${GATEWAY_URL}/dashboard/local-token`));
  if (status === 404) {
    // No simulator has run on this stack (scripts/test.sh never starts it).
    assertStringIncludes(body.message, "deno task jwt:mint");
    return;
  }
  assertEquals(status, 200);
  const devices = await fetch(`${FUNCTIONS_URL}/devices`, {
    headers: { authorization: `Bearer ${body.token}` },
  });
  assertEquals((await jsonOf(devices)).status, 200);
});
