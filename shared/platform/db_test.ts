import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { JOINED_BODY_MAX_BYTES, rpcBody, toDbError } from "./db.ts";

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

Deno.test("rpcBody joins small pieces into one buffer and streams large ones uncopied", async () => {
  const utf8 = new TextEncoder();
  const small = rpcBody([utf8.encode("ab"), utf8.encode("c"), new Uint8Array(0), utf8.encode("d")]);
  assertInstanceOf(small, Uint8Array);
  assertEquals(new TextDecoder().decode(small as Uint8Array), "abcd");

  const half = new Uint8Array(JOINED_BODY_MAX_BYTES / 2).fill(0x61);
  const atCap = rpcBody([half, half]);
  assertInstanceOf(atCap, Uint8Array, "a body of exactly the cap is joined");
  assertEquals((atCap as Uint8Array).length, JOINED_BODY_MAX_BYTES);

  const pieces = [half, half, utf8.encode("z")];
  const large = rpcBody(pieces);
  assertInstanceOf(large, ReadableStream, "a body over the cap is streamed");
  const sent: unknown[] = [];
  for await (const chunk of large as ReadableStream<Uint8Array>) sent.push(chunk);
  // The pieces themselves, in order: nothing was copied.
  assertEquals(sent.length, 3);
  assert(sent.every((chunk, i) => chunk === pieces[i]));
});
