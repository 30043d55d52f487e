/**
 * The answers of every function, as zod schemas: the source of the OpenAPI document's response
 * bodies (shared/api/openapi.ts). The functions build their answers by hand; the contract test
 * (tests/integration/openapi_contract_test.ts) sends real requests and checks every answer
 * against the document, so an answer that drifts from these schemas fails it.
 *
 * Objects are loose (extra properties allowed): adding a field to an answer is compatible, and
 * clients generated from the document keep working. Every field listed is required unless marked
 * optional, so removing or renaming one fails the contract test.
 *
 * @module
 */
import { z } from "zod";
import { FIELDS } from "../catalogue/catalogue.ts";
import { DATA_SOURCES, frameRowSchema } from "../catalogue/frame_schema.ts";
import type { FieldKind } from "../catalogue/field_spec.ts";

const timestamp = z.string().meta({ description: "When the answer was made (ISO 8601, UTC)" });
const uuid = z.uuid();
/** A time as Postgres prints it, e.g. 2026-12-04T16:50:09.411437+00:00. */
const dbTime = z.string().meta({ format: "date-time" });

/** The one error body of every function (STYLE.md §3; README, Endpoints). */
export const errorAnswer = z.looseObject({
  success: z.literal(false),
  error: z.looseObject({
    code: z.string().meta({ description: "Stable, snake_case: invalid_parameter, ..." }),
    message: z.string(),
    details: z.unknown().optional().meta({
      description: "Per-field, per-parameter or per-line problems, where there are some",
    }),
  }),
  timestamp,
  request_id: z.string(),
});

const batchStatus = z.looseObject({
  pending_records: z.number().int(),
  batch_size: z.number().int(),
  batch_full: z.boolean(),
});

const lineError = z.looseObject({
  line: z.number().int().meta({ description: "1-based line (or JSON array element)" }),
  key: z.string().optional(),
  reason: z.string(),
});

/** POST /telemetry-parse, one line: the reference API's shape. */
export const parseOneAnswer = z.looseObject({
  success: z.literal(true),
  parsed_data: frameRowSchema,
  stored: z.boolean(),
  batch_status: batchStatus.nullable(),
  timestamp,
});

/** POST /telemetry-parse, several lines (or ?stream=true, which adds `stream`). */
export const parseManyAnswer = z.looseObject({
  success: z.literal(true),
  parsed_data: z.null(),
  stored: z.boolean(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  errors: z.array(lineError).meta({ description: "The first 100 rejected lines" }),
  batch_status: batchStatus.nullable(),
  stream: z.looseObject({
    chunks: z.number().int(),
    lines: z.number().int(),
    ended: z.enum(["end_of_body", "time_limit", "line_limit"]),
    duration_ms: z.number(),
  }).optional().meta({ description: "Only for ?stream=true" }),
  timestamp,
});

/** GET /telemetry-parse: where a device resumes. */
export const resumePointAnswer = z.looseObject({
  success: z.literal(true),
  device_id: uuid,
  last_recorded_at: dbTime.nullable(),
  timestamp,
});

const columnType: Record<FieldKind, z.ZodType> = {
  number: z.number(),
  integer: z.number().int(),
  boolean: z.boolean(),
  text: z.string(),
};

/** A stored frame as telemetry-query answers it: every catalogue column, null when not sent. */
export const frameAnswerRow = z.looseObject({
  id: z.number().int().nullable().meta({ description: "null until the flush stores the frame" }),
  device_id: uuid,
  flight_id: z.string().nullable(),
  recorded_at: dbTime,
  created_at: dbTime,
  ...Object.fromEntries(
    FIELDS.map((field) => [field.name, columnType[field.kind].nullable().optional()]),
  ),
  raw_data: z.string().nullable().optional(),
  parser_version: z.string().nullable().optional(),
  data_source: z.enum(DATA_SOURCES).nullable().optional(),
  extra: z.record(z.string(), z.unknown()).nullable().optional(),
}).meta({ description: "Columns left out by `fields` are absent" });

/** GET /telemetry-query (format=json). */
export const queryAnswer = z.looseObject({
  success: z.literal(true),
  data: z.array(frameAnswerRow),
  count: z.number().int().nullable(),
  count_method: z.enum(["exact", "estimated"]).nullable(),
  next_cursor: z.string().nullable(),
  limit: z.number().int(),
  offset: z.number().int(),
  cached: z.boolean(),
  timestamp,
});

const lastFlush = z.looseObject({ rows_moved: z.number().int(), started_at: dbTime }).nullable();

const pipelineStatus = batchStatus.extend({
  last_flush: lastFlush,
  flush_schedule: z.string().nullable(),
  oldest_pending_age_seconds: z.number().nullable(),
});

/** GET /telemetry-batch-status. */
export const batchStatusAnswer = z.looseObject({
  success: z.literal(true),
  batch_status: pipelineStatus,
  timestamp,
});

/** POST /telemetry-batch-flush. */
export const flushAnswer = z.looseObject({
  success: z.literal(true),
  message: z.string(),
  skipped: z.boolean(),
  rows_moved: z.number().int(),
  duplicates_dropped: z.number().int(),
  batch_status: pipelineStatus,
  timestamp,
});

/** GET /health (200 healthy or degraded, 503 unhealthy: the same shape). */
export const healthAnswer = z.looseObject({
  status: z.enum(["healthy", "degraded", "unhealthy"]),
  timestamp,
  supabase_connected: z.boolean(),
  cache_connected: z.boolean(),
  batch_status: z.looseObject({
    pending_records: z.number().int().nullable(),
    batch_size: z.number().int().nullable(),
    batch_full: z.boolean().nullable(),
    oldest_pending_age_seconds: z.number().nullable(),
    supabase_healthy: z.boolean(),
  }),
});

/** GET /config: the reference shape, plus the catalogue in full and the limits. */
export const configAnswer = z.looseObject({
  telemetry_fields: z.record(z.string(), z.string()),
  fields: z.array(z.looseObject({
    name: z.string(),
    type: z.enum(["number", "integer", "boolean", "text"]),
    sql_type: z.string(),
    unit: z.string().nullable(),
    min: z.number().nullable(),
    max: z.number().nullable(),
    max_length: z.number().int().nullable(),
    aliases: z.array(z.string()),
    description: z.string(),
    group: z.string(),
  })),
  batch_size: z.number().int(),
  max_retries: z.number().int(),
  retention_months: z.number().int(),
  flush_interval: z.string().nullable(),
  parser_version: z.string(),
  limits: z.looseObject({}),
  supabase_project_id: z.string(),
  timestamp,
});

const deviceListed = z.looseObject({
  id: uuid,
  name: z.string(),
  key_prefix: z.string(),
  created_at: dbTime,
  revoked_at: dbTime.nullable(),
  last_seen_at: dbTime.nullable(),
});

/** GET /devices. */
export const devicesAnswer = z.looseObject({
  success: z.literal(true),
  devices: z.array(deviceListed),
  count: z.number().int(),
  timestamp,
});

/** POST /devices (201) and POST /devices/{id}/rotate: the key, shown only in this answer. */
export const deviceKeyAnswer = z.looseObject({
  success: z.literal(true),
  device: z.looseObject({
    id: uuid,
    name: z.string(),
    key: z.string().meta({ description: "The device key; only its SHA-256 is stored" }),
    key_prefix: z.string(),
    created_at: dbTime,
  }),
  timestamp,
});

/** POST /devices/{id}/revoke. */
export const revokedAnswer = z.looseObject({
  success: z.literal(true),
  device: z.looseObject({ id: uuid, revoked_at: dbTime }),
  timestamp,
});

const analyticsCommon = { success: z.literal(true), cached: z.boolean(), timestamp };

/** GET /telemetry-analytics: rollups per hour or day. */
export const rollupsAnswer = z.looseObject({
  ...analyticsCommon,
  device_id: uuid,
  flight_id: z.string().nullable(),
  bucket: z.enum(["hour", "day"]),
  from: z.string(),
  to: z.string(),
  buckets: z.array(z.looseObject({
    bucket_start: dbTime,
    frames: z.number().int(),
    min_altitude_m: z.number().nullable(),
    avg_altitude_m: z.number().nullable(),
    max_altitude_m: z.number().nullable(),
    min_battery_voltage_v: z.number().nullable(),
    avg_battery_voltage_v: z.number().nullable(),
    max_groundspeed_ms: z.number().nullable(),
    distance_m: z.number(),
    armed_seconds: z.number(),
  })),
});

/** GET /telemetry-analytics/flights. */
export const flightsAnswer = z.looseObject({
  ...analyticsCommon,
  device_id: uuid,
  flights: z.array(z.looseObject({
    flight_id: z.string(),
    started_at: dbTime,
    ended_at: dbTime,
    duration_seconds: z.number(),
    frames: z.number().int(),
    distance_m: z.number(),
    armed_seconds: z.number(),
  })),
});

/** GET /telemetry-analytics/monitor. */
export const monitorAnswer = z.looseObject({
  ...analyticsCommon,
  monitor: z.looseObject({ last_flushes: z.array(z.looseObject({})) }),
});

/** GET /telemetry-analytics/internals (service role). */
export const internalsAnswer = z.looseObject({
  ...analyticsCommon,
  internals: z.looseObject({
    index_usage: z.array(z.looseObject({})),
    slow_queries: z.array(z.looseObject({})),
    table_stats: z.array(z.looseObject({})),
  }),
});
