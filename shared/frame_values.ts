/**
 * Staged frames as Postgres reads them fastest: an array literal of the composite type
 * telemetry.frame_values, whose columns are telemetry's in table order (without id, device_id and
 * created_at). The flush and public.telemetry_frames unpack it with
 * unnest(frames::telemetry.frame_values[]), which runs each column's input function the way COPY
 * does, instead of looking every key up in a JSON object.
 */
import { FIELDS } from "./catalogue.ts";
import type { TelemetryRow } from "./schemas/frame.ts";

/** The attributes of telemetry.frame_values, in order (tests compare them with the database). */
export const FRAME_VALUE_COLUMNS: readonly string[] = [
  "flight_id",
  "recorded_at",
  ...FIELDS.map((field) => field.name),
  "raw_data",
  "parser_version",
  "data_source",
  "extra",
];

/** A value inside a composite or array literal: quoted, with `"` and `\` escaped. */
function quote(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

function field(value: unknown): string {
  if (value === undefined || value === null) return ""; // NULL
  if (typeof value === "boolean") return value ? "t" : "f";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return quote(value);
  return quote(JSON.stringify(value)); // extra: jsonb
}

/** The telemetry.frame_values[] literal of these rows. */
export function encodeFrameValues(rows: readonly TelemetryRow[]): string {
  const elements = rows.map((row) => {
    const values = row as Readonly<Record<string, unknown>>;
    return quote(`(${FRAME_VALUE_COLUMNS.map((column) => field(values[column])).join(",")})`);
  });
  return `{${elements.join(",")}}`;
}
