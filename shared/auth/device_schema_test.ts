import { assertEquals } from "@std/assert";
import { createDeviceSchema, fieldProblems, uuidSchema } from "./device_schema.ts";

function problemsOf(body: unknown) {
  const parsed = createDeviceSchema.safeParse(body);
  return parsed.success ? [] : fieldProblems(parsed.error);
}

Deno.test("createDeviceSchema accepts a name of 1 to 100 characters, trimmed", () => {
  assertEquals(createDeviceSchema.parse({ name: "drone 1" }), { name: "drone 1" });
  assertEquals(createDeviceSchema.parse({ name: "  x  " }), { name: "x" });
  assertEquals(createDeviceSchema.parse({ name: "é".repeat(100) }).name.length, 100);
  assertEquals(createDeviceSchema.parse({ name: "🚁 scout" }).name, "🚁 scout");
});

Deno.test("createDeviceSchema lower-cases an owner_id", () => {
  assertEquals(
    createDeviceSchema.parse({ name: "d", owner_id: "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE" }),
    { name: "d", owner_id: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" },
  );
});

Deno.test("createDeviceSchema names name when it is missing, empty, too long or not a string", () => {
  assertEquals(problemsOf({}), [{ field: "name", message: "is required" }]);
  assertEquals(problemsOf({ name: "" }), [{ field: "name", message: "must not be empty" }]);
  assertEquals(problemsOf({ name: "   " }), [{ field: "name", message: "must not be empty" }]);
  assertEquals(problemsOf({ name: "x".repeat(101) }), [
    { field: "name", message: "must be at most 100 characters" },
  ]);
  assertEquals(problemsOf({ name: 42 }), [{ field: "name", message: "must be a string" }]);
  assertEquals(problemsOf({ name: null }), [{ field: "name", message: "must be a string" }]);
  assertEquals(problemsOf({ name: "a\u0000b" }), [
    { field: "name", message: "must not hold control characters" },
  ]);
});

Deno.test("createDeviceSchema names unknown fields and a bad owner_id", () => {
  assertEquals(problemsOf({ name: "d", key: "dtk_x" }), [
    { field: "key", message: "is not a known field; send name (and owner_id as service role)" },
  ]);
  assertEquals(problemsOf({ name: "d", owner_id: "me" }), [
    { field: "owner_id", message: "must be a UUID" },
  ]);
});

Deno.test("createDeviceSchema refuses a body that is not an object", () => {
  for (const body of [[], "name", 1, null]) {
    assertEquals(problemsOf(body), [{ field: "body", message: "must be a JSON object" }]);
  }
});

Deno.test("uuidSchema accepts UUIDs in any case and refuses anything else", () => {
  assertEquals(
    uuidSchema.parse("AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"),
    "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  );
  for (const text of ["", "x", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee", "../etc"]) {
    assertEquals(uuidSchema.safeParse(text).success, false, text);
  }
});
