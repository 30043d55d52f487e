/**
 * The handler's answers that never reach the database or Redis: preflight and method. The
 * health checks themselves are tested end to end in tests/integration/.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { CORS_HEADERS } from "../../../shared/platform/http.ts";
import { createNoDbDeps } from "../../../tests/_no_db_deps.ts";
import { createHealthHandler } from "./handler.ts";

const NOW = new Date("2026-11-26T12:00:00.000Z");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function fakeDeps() {
  const { deps, logLines } = createNoDbDeps({}, NOW);
  return { deps, logger: { lines: logLines } };
}

Deno.test("health answers preflight 204 with CORS headers", async () => {
  const { deps, logger } = fakeDeps();
  const response = await createHealthHandler(deps)(
    new Request("http://functions.test/health", { method: "OPTIONS" }),
  );
  const requestId = response.headers.get("x-request-id") ?? "";
  assertMatch(requestId, UUID);
  assertEquals(response.status, 204);
  assertEquals(await response.text(), "");
  assertEquals(Object.fromEntries(response.headers), {
    ...CORS_HEADERS,
    "x-request-id": requestId,
  });
  assertEquals(
    logger.lines.map(({ function: name, method, status }) => ({ name, method, status })),
    [{ name: "health", method: "OPTIONS", status: 204 }],
  );
});

Deno.test("health answers 405 with Allow: GET when the method is not GET", async (t) => {
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    await t.step(method, async () => {
      const { deps, logger } = fakeDeps();
      const response = await createHealthHandler(deps)(
        new Request("http://functions.test/health", { method }),
      );
      assertEquals(response.status, 405);
      assertEquals(response.headers.get("content-type"), "application/json");
      assertEquals(response.headers.get("allow"), "GET");
      assertEquals(await response.json(), {
        success: false,
        error: { code: "method_not_allowed", message: `Method ${method} is not allowed; use GET` },
        timestamp: "2026-11-26T12:00:00.000Z",
        request_id: response.headers.get("x-request-id"),
      });
      assertEquals(logger.lines.map(({ status }) => status), [405]);
    });
  }
});
