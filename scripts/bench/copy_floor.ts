/**
 * The physical floor of storing frames: one `COPY` of the same typed rows into the same
 * partitioned, indexed telemetry table, with Postgres's CPU counted as the ingest paths' is (the
 * whole postmaster tree, from /proc). No API, no JSON, no staging: what writing the rows, their
 * indexes and their WAL costs, below which no ingest path can go.
 */
import { FIELDS } from "../../shared/catalogue/catalogue.ts";
import * as postgres from "../stack/postgres.ts";
import { cpuBetween, cpuSnapshot } from "./cpu.ts";
import type { Frame } from "./frames.ts";

/** COPY's columns: the row's keys, the device and the receive time. */
const FRAME_COLUMNS = new Set(["recorded_at", "flight_id", ...FIELDS.map((f) => f.name)]);

/** A value in COPY's text format: booleans t/f, backslash, tab and line breaks escaped. */
function copyValue(value: string | number | boolean | undefined): string {
  if (value === undefined) return "\\N";
  if (typeof value === "boolean") return value ? "t" : "f";
  if (typeof value === "number") return String(value);
  return value.replace(
    /[\\\t\n\r]/g,
    (c) => ({ "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c] ?? "\\\\",
  );
}

/** COPY's input: one line per frame, every column of the first frame's keys. */
export function copyText(rows: readonly { deviceId: string; frame: Frame }[]): {
  columns: string[];
  text: string;
} {
  const keys = Object.keys(rows[0]?.frame ?? {}).filter((key) => FRAME_COLUMNS.has(key));
  const createdAt = new Date().toISOString();
  const lines = rows.map(({ deviceId, frame }) =>
    [deviceId, createdAt, ...keys.map((key) => copyValue(frame[key]))].join("\t")
  );
  return { columns: ["device_id", "created_at", ...keys], text: lines.join("\n") };
}

/**
 * COPYs the rows into telemetry.telemetry in one statement of one session.
 * @throws {Error} when COPY fails
 */
export async function copyRows(rows: readonly { deviceId: string; frame: Frame }[]): Promise<void> {
  const { columns, text } = copyText(rows);
  const output = await postgres.psql(
    `copy telemetry.telemetry (${columns.join(", ")}) from stdin;\n${text}\n\\.\n` +
      "select 'copied';",
  );
  if (!output.endsWith("copied")) throw new Error(`COPY did not finish: ${output.slice(-500)}`);
}

/** Postgres's CPU seconds for {@link copyRows} (reading /proc needs Deno's --allow-all). */
export async function copyFloor(
  rows: readonly { deviceId: string; frame: Frame }[],
): Promise<number> {
  const before = cpuSnapshot();
  await copyRows(rows);
  // The backend psql used may still be exiting: its CPU counts once the postmaster has reaped it.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return cpuBetween(before, cpuSnapshot()).postgres;
}
