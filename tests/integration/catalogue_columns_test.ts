/**
 * The field catalogue and the database cannot drift: every catalogue field is a column of
 * telemetry and of its staging table, with the catalogue's SQL type, and neither table has a
 * typed field the catalogue lacks.
 */
import { FRAME_VALUE_COLUMNS } from "../../shared/ingest/frame_values.ts";
import { assertEquals } from "@std/assert";
import { FIELDS } from "../../shared/catalogue/catalogue.ts";
import { sql } from "./_helpers.ts";

const METADATA_COLUMNS = [
  "id",
  "device_id",
  "flight_id",
  "recorded_at",
  "created_at",
  "raw_data",
  "parser_version",
  "data_source",
  "extra",
];

async function columns(table: string): Promise<Map<string, string>> {
  const rows = await sql(
    `select column_name || ' ' || data_type from information_schema.columns
     where table_schema = 'telemetry' and table_name = '${table}' order by ordinal_position`,
  );
  return new Map(
    rows.split("\n").map((row) => {
      const [name = "", ...type] = row.split(" ");
      return [name, type.join(" ")];
    }),
  );
}

// Staging keeps each request's frames as JSON text keyed by these same column names, so the
// telemetry table is the one whose columns must match.
Deno.test("catalogue matches the columns of telemetry.telemetry", async () => {
  const actual = await columns("telemetry");
  const typed = [...actual].filter(([name]) => !METADATA_COLUMNS.includes(name));
  assertEquals(
    typed,
    FIELDS.map((field) => [field.name, field.sqlType]),
  );
});

Deno.test("frame_values literal columns are the attributes of telemetry.frame_values", async () => {
  const attributes = await sql(
    `select string_agg(a.attname, ',' order by a.attnum) from pg_catalog.pg_attribute as a
     where a.attrelid = 'telemetry.frame_values'::regclass and a.attnum > 0 and not a.attisdropped`,
  );
  assertEquals(attributes.split(","), [...FRAME_VALUE_COLUMNS]);
});
