import { assertEquals } from "@std/assert";
import { toDbError } from "./db.ts";

const shape = (error: ReturnType<typeof toDbError>) => [error.code, error.transient, error.message];

Deno.test("toDbError marks an answer without a code as a broken connection, transient", () => {
  // PostgREST's answer when a Postgres restart ended the call under it.
  assertEquals(shape(toDbError({ code: "", message: "", details: null }, 400)), [
    "",
    true,
    "database call failed",
  ]);
  assertEquals(
    shape(toDbError({ code: "", message: "", details: "server closed the connection" }, 400)),
    ["", true, "server closed the connection"],
  );
});

Deno.test("toDbError keeps an error the database reported as the request's own", () => {
  assertEquals(shape(toDbError({ code: "23514", message: "violates check" }, 400)), [
    "23514",
    false,
    "violates check",
  ]);
  assertEquals(shape(toDbError({ code: "P0002", message: "no current key" }, 200)), [
    "P0002",
    false,
    "no current key",
  ]);
});

Deno.test("toDbError marks unreachable, overloaded and shutting-down databases transient", () => {
  assertEquals(toDbError({ code: "PGRST001", message: "x" }, 503).transient, true);
  assertEquals(toDbError({ code: "57P01", message: "terminating" }, 500).transient, true);
  assertEquals(toDbError({ code: "40001", message: "serialization" }, 409).transient, true);
  assertEquals(toDbError(new TypeError("fetch failed")).transient, true);
});
