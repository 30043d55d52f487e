/**
 * The benchmark's frames as InfluxDB line protocol, so InfluxDB gets the very frames the naive
 * path and telemetry-parse get: one point per frame, measurement `telemetry`, the device as a tag
 * (InfluxDB's series key, as device_id is ours), every other key a field, recorded_at as the
 * point's time in milliseconds (write with `precision=ms`).
 * https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/
 */
import { FIELDS } from "../../shared/catalogue/catalogue.ts";
import type { Frame } from "./frames.ts";

/** Catalogue integers are written as InfluxDB integers (`3i`), as their columns are integers. */
const INTEGER_FIELDS: ReadonlySet<string> = new Set(
  FIELDS.filter((f) => f.kind === "integer").map((f) => f.name),
);

/** A tag value or key: commas, spaces and equals signs escaped. */
function tag(text: string): string {
  return text.replace(/[, =\\]/g, (c) => `\\${c}`);
}

function fieldValue(name: string, value: string | number | boolean): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return INTEGER_FIELDS.has(name) ? `${value}i` : String(value);
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** One frame's line (without its line feed). */
export function frameLine(deviceId: string, frame: Frame): string {
  const fields: string[] = [];
  let time = "";
  for (const [name, value] of Object.entries(frame)) {
    if (name === "recorded_at") time = ` ${Date.parse(String(value))}`;
    else fields.push(`${tag(name)}=${fieldValue(name, value)}`);
  }
  return `telemetry,device_id=${tag(deviceId)} ${fields.join(",")}${time}`;
}

/** A write body: one line per frame. */
export function lineProtocol(deviceId: string, frames: readonly Frame[]): string {
  return frames.map((frame) => frameLine(deviceId, frame)).join("\n");
}
