import { assertEquals } from "@std/assert";
import { type CursorPosition, decodeCursor, encodeCursor } from "./query_cursor.ts";

const POSITION: CursorPosition = {
  "order_by": "roll_degrees",
  desc: false,
  value: "-17.657314",
  "recorded_at": "2026-11-29T23:16:39.9+00:00",
  "device_id": "00000000-0000-4000-8000-00000000d001",
};

Deno.test("encodeCursor() makes a URL-safe token that decodeCursor() reads back", () => {
  const token = encodeCursor(POSITION);
  assertEquals(/^[A-Za-z0-9_-]+$/.test(token), true);
  assertEquals(decodeCursor(token), POSITION);
  assertEquals(decodeCursor(encodeCursor({ ...POSITION, value: null })), {
    ...POSITION,
    value: null,
  });
});

Deno.test("decodeCursor() returns null for tokens this API did not make", () => {
  const json = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  for (
    const token of [
      "",
      "%%",
      "bm90LWpzb24",
      json([2, "roll_degrees", false, "1", "2026-11-29T23:16:39Z", POSITION.device_id]),
      json([1, "roll_degrees", "no", "1", "2026-11-29T23:16:39Z", POSITION.device_id]),
      json([1, "roll_degrees", false, 1, "2026-11-29T23:16:39Z", POSITION.device_id]),
      json([1, "roll_degrees", false, "1", "not a time", POSITION.device_id]),
      json([1, "roll_degrees", false, "1", "2026-11-29T23:16:39Z", "x' or 1=1"]),
      json({ order_by: "roll_degrees" }),
    ]
  ) {
    assertEquals(decodeCursor(token), null, token);
  }
});
