import { assertEquals } from "@std/assert";
import { createFrameValuesWriter, encodeFrameValues, FRAME_VALUE_COLUMNS } from "./frame_values.ts";
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

Deno.test("the writer's pieces are the literal's UTF-8, whatever the rows' grouping", () => {
  const rows = Array.from({ length: 3000 }, (_, i) => ({
    "recorded_at": `2026-11-26T10:00:00.${String(i).padStart(6, "0")}Z`,
    "raw_data": `roll:${i},note:"é"`,
  })) as unknown as TelemetryRow[];
  const writer = createFrameValuesWriter();
  writer.add(rows.slice(0, 1));
  writer.add(rows.slice(1, 2000));
  writer.add(rows.slice(2000));
  const pieces = writer.finish();
  assertEquals(writer.count, 3000);
  assertEquals(pieces.length > 1, true); // more than one piece: the rows were encoded as they came
  const joined = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) joined.set(piece, (at += piece.length) - piece.length);
  assertEquals(new TextDecoder().decode(joined), encodeFrameValues(rows));
  const empty = createFrameValuesWriter();
  assertEquals(new TextDecoder().decode(empty.finish()[0]), "{}");
});

/** The writer's pieces joined and decoded. */
function written(rows: readonly TelemetryRow[][]): { text: string; pieces: number } {
  const writer = createFrameValuesWriter();
  for (const group of rows) writer.add(group);
  const pieces = writer.finish();
  const joined = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) joined.set(piece, (at += piece.length) - piece.length);
  return { text: new TextDecoder().decode(joined), pieces: pieces.length };
}

Deno.test("the writer quotes raw_data byte by byte as encodeFrameValues quotes it as text", () => {
  const rows = [
    { "raw_data": '{"a":"b \\"q\\" \\\\ c","é":"中","e":"🛩️"}', "flight_id": 'f "1" \\' },
    { "raw_data": "", extra: { 'k"ey': 'v\\"al' } },
    { "roll_degrees": -0.5 }, // no raw_data: NULL
    { "raw_data": '""""\\\\', "flight_mode": "AUTO" },
  ] as unknown as TelemetryRow[];
  assertEquals(written([rows]).text, encodeFrameValues(rows));
  assertEquals(written([rows.slice(0, 1), [], rows.slice(1)]).text, encodeFrameValues(rows));
});

Deno.test("a raw_data longer than a piece, and pieces ending inside a row, lose nothing", () => {
  const long = `{"note":"${'x"\\é🛩'.repeat(60_000)}"}`; // about 600 KB of UTF-8, quoted larger
  const rows = [
    { "raw_data": "a" },
    { "raw_data": long },
    ...Array.from(
      { length: 2_000 },
      (_, i) => ({ "raw_data": `"${i}"`, "flight_id": "é".repeat(i % 50) }),
    ),
  ] as unknown as TelemetryRow[];
  const { text, pieces } = written([rows]);
  assertEquals(pieces >= 2, true);
  assertEquals(text, encodeFrameValues(rows));
});
