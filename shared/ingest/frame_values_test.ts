import { assertEquals } from "@std/assert";
import { encodeFrameValues, FRAME_VALUE_COLUMNS } from "./frame_values.ts";
import type { TelemetryRow } from "../catalogue/frame_schema.ts";

const at = (column: string) => FRAME_VALUE_COLUMNS.indexOf(column);

/** The composite literals inside an array literal, unquoted one level (for checking only). */
function elements(literal: string): string[] {
  return [...literal.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
    (m[1] ?? "").replace(/\\(.)/g, "$1")
  );
}

Deno.test("encodeFrameValues writes one composite per row, columns in frame_values order", () => {
  const row = { "recorded_at": "2026-11-26T10:00:00.000000Z", "roll_degrees": 1.5, armed: true };
  const literal = encodeFrameValues([row as unknown as TelemetryRow]);
  const [composite = ""] = elements(literal);
  const fields = composite.slice(1, -1).split(",");
  assertEquals(fields.length, FRAME_VALUE_COLUMNS.length);
  assertEquals(fields[at("recorded_at")], '"2026-11-26T10:00:00.000000Z"');
  assertEquals(fields[at("roll_degrees")], "1.5");
  assertEquals(fields[at("armed")], "t");
  assertEquals(fields[at("flight_id")], "");
});

Deno.test("encodeFrameValues quotes text twice, for the composite and for the array", () => {
  const row = { "raw_data": 'a "b" \\c', extra: { note: "x,y" } };
  const literal = encodeFrameValues([row as unknown as TelemetryRow]);
  assertEquals(literal.startsWith('{"('), true);
  assertEquals(literal.includes('\\"a \\\\\\"b\\\\\\" \\\\\\\\c\\"'), true);
  assertEquals(encodeFrameValues([]), "{}");
});
