import { assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { DbError } from "../../../shared/platform/db.ts";
import { HttpError } from "../../../shared/platform/http.ts";
import { matchDeviceRoute, toDeviceHttpError } from "./_routes.ts";

const ID = "11111111-1111-4111-8111-111111111111";

Deno.test("matchDeviceRoute() reads the collection and the two device actions", () => {
  assertEquals(matchDeviceRoute("/"), { kind: "collection" });
  assertEquals(matchDeviceRoute(`/${ID}/revoke`), { kind: "device", id: ID, action: "revoke" });
  assertEquals(matchDeviceRoute(`/${ID}/rotate/`), { kind: "device", id: ID, action: "rotate" });
  assertEquals(matchDeviceRoute("/a%20b/rotate"), { kind: "device", id: "a b", action: "rotate" });
  assertEquals(matchDeviceRoute("/%E0%A4%A/rotate"), {
    kind: "device",
    id: "%E0%A4%A",
    action: "rotate",
  });
});

Deno.test("matchDeviceRoute() throws 404 for any other path", () => {
  for (const path of [`/${ID}`, `/${ID}/delete`, "/x/y/revoke", "//revoke", "/revoke"]) {
    const error = assertThrows(() => matchDeviceRoute(path), HttpError);
    assertEquals(error.status, 404, path);
  }
});

function mapped(code: string, transient = false, action: "revoke" | "rotate" = "revoke") {
  const error = mappedError(code, transient, action);
  if (!(error instanceof HttpError)) throw new Error(`${code} did not map to an HttpError`);
  return error;
}

function mappedError(code: string, transient: boolean, action: "revoke" | "rotate" = "revoke") {
  return toDeviceHttpError(new DbError("refused", code, transient, 400), {
    kind: "device",
    id: ID,
    action,
  });
}

Deno.test("toDeviceHttpError() maps the RPCs' refusals to client errors naming what is wrong", () => {
  const notFound = mapped("PT404");
  assertEquals(mapped("P0002").status, 404);
  assertEquals([notFound.status, notFound.message], [404, `Device "${ID}" was not found`]);
  const revoked = mapped("P0002", false, "rotate");
  assertEquals(revoked.message, `Device "${ID}" was not found or is revoked`);
  const forbidden = mapped("42501");
  assertEquals(forbidden.status, 403);
  for (const code of ["23503", "22004", "23514"]) {
    const bad = mapped(code);
    assertEquals(bad.status, 400, code);
  }
});

Deno.test("toDeviceHttpError() answers 503 for a transient failure and keeps anything else", () => {
  const down = mapped("08006", true);
  assertEquals([down.status, down.headers["retry-after"]], [503, "5"]);
  const other = mappedError("XX000", false);
  assertInstanceOf(other, DbError);
});
