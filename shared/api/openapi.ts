/**
 * The OpenAPI 3.1 description of every function, served by `GET /config/openapi.json`. Built
 * from the zod schemas the functions validate with (telemetry-query's parameters, the devices
 * body, the frame schema of JSON ingest) and from the answers' schemas (answer_schemas.ts), with
 * zod's own JSON Schema output, so the document follows the code. telemetry-parse's few query
 * parameters, which its handler checks by hand, are written here; the contract test
 * (tests/integration/openapi_contract_test.ts) checks the document on the real stack.
 *
 * @module
 */
import { z } from "zod";
import { createDeviceSchema } from "../auth/device_schema.ts";
import { FIELD_NAMES, METADATA_KEYS } from "../catalogue/catalogue.ts";
import { extraValueSchema, frameRowSchema } from "../catalogue/frame_schema.ts";
import {
  flightsParamsSchema,
  liveParamsSchema,
  rollupsParamsSchema,
} from "../query/param_schemas.ts";
import { telemetryQuerySchema } from "../query/query_schema.ts";
import * as answers from "./answer_schemas.ts";

type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;

/** The answers' component names, as `#/components/schemas/<name>` refers to them. */
const ANSWERS = {
  Error: answers.errorAnswer,
  Frame: answers.frameAnswerRow,
  ParseOne: answers.parseOneAnswer,
  ParseMany: answers.parseManyAnswer,
  ResumePoint: answers.resumePointAnswer,
  Query: answers.queryAnswer,
  BatchStatus: answers.batchStatusAnswer,
  Flush: answers.flushAnswer,
  Health: answers.healthAnswer,
  Config: answers.configAnswer,
  Devices: answers.devicesAnswer,
  DeviceKey: answers.deviceKeyAnswer,
  Revoked: answers.revokedAnswer,
  Rollups: answers.rollupsAnswer,
  Flights: answers.flightsAnswer,
  Monitor: answers.monitorAnswer,
  Internals: answers.internalsAnswer,
} as const;

type AnswerName = keyof typeof ANSWERS;

/** zod's JSON Schema without the keys that only make sense for a standalone document. */
function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function inputSchema(schema: z.ZodType): JsonSchema {
  return strip(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema);
}

function answerComponents(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(ANSWERS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => [id, strip(schema as JsonSchema)]),
  );
}

const ref = (name: AnswerName) => ({ $ref: `#/components/schemas/${name}` });

const ERROR_MEANING: Record<number, string> = {
  400: "A parameter, header or body field is invalid (named in the message and details)",
  401: "No credential, or one that is not valid",
  403: "A valid credential whose role may not call this",
  404: "No such device (or another tenant's), flight or route",
  408: "The body did not arrive within TELEMETRY_BODY_TIMEOUT_MS",
  413: "The body is over the byte or line limit",
  415: "A content type the endpoint does not take",
  422: "Every frame of the body is invalid",
  429: "Over the device's rate limit (see Retry-After)",
  503: "The database stayed unreachable after retries (see Retry-After)",
};

function errors(...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(statuses.map((status) => [String(status), {
    description: ERROR_MEANING[status] ?? "Error",
    content: { "application/json": { schema: ref("Error") } },
  }]));
}

function ok(description: string, schema: JsonSchema, type = "application/json") {
  return { description, content: { [type]: { schema } } };
}

function queryParam(name: string, schema: JsonSchema, description: string, required = false) {
  return { name, in: "query", required, description, schema };
}

const UUID_SCHEMA = inputSchema(z.uuid());
const TIME = { type: "string", description: "ISO 8601, e.g. 2026-11-26T10:00:00Z" };

/** What each telemetry-query parameter means; its schema comes from telemetryQuerySchema. */
const QUERY_PARAMETERS: Record<string, string> = {
  limit: "Page size, 1 to 1000 (default 100)",
  offset: "Frames to skip (default 0); 0 with a cursor",
  "order_by": "created_at (default), recorded_at, or a field name within a from/to window",
  desc: "Newest first (default true)",
  "device_id": "Only this device (404 for a device the caller may not see)",
  "flight_id": "Only this flight",
  from: "recorded_at at or after (ISO 8601)",
  to: "recorded_at at or before (ISO 8601)",
  fields: "Comma-separated columns to answer (the ids and times always come)",
  cursor: "The next_cursor of the previous page",
  format: "json (a page), or csv / ndjson (every frame of the query, streamed)",
};

/** A query string's parameters, from the zod schema the function checks it with. */
function parametersOf(schema: z.ZodType, descriptions: Record<string, string> = {}): unknown[] {
  const json = inputSchema(schema);
  const properties = json.properties as Record<string, JsonSchema>;
  const required = (json.required ?? []) as string[];
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return queryParam(
      name,
      rest,
      descriptions[name] ?? (typeof description === "string" ? description : ""),
      required.includes(name),
    );
  });
}

function telemetryQueryParameters(): unknown[] {
  const names = Object.keys(telemetryQuerySchema.shape);
  const undocumented = names.filter((name) => !(name in QUERY_PARAMETERS));
  const stale = Object.keys(QUERY_PARAMETERS).filter((name) => !names.includes(name));
  if (undocumented.length > 0 || stale.length > 0) {
    throw new TypeError(
      `telemetry-query parameters and their descriptions differ: ${[...undocumented, ...stale]}`,
    );
  }
  return parametersOf(telemetryQuerySchema, QUERY_PARAMETERS);
}

/** A JSON frame as a device sends it: catalogue fields (or aliases, see GET /config), a time, extras. */
function jsonFrameSchema(): JsonSchema {
  const row = inputSchema(frameRowSchema);
  const rowProperties = row.properties as Record<string, JsonSchema>;
  const properties: Record<string, JsonSchema> = {};
  for (const name of [...FIELD_NAMES, "flight_id"]) {
    const property = rowProperties[name];
    if (property) properties[name] = property;
  }
  for (const name of METADATA_KEYS.recorded_at) properties[name] = TIME;
  return {
    type: "object",
    description: "Field names or their aliases (GET /config); a key the catalogue does not " +
      "know must be an identifier and is kept in `extra`",
    properties,
    additionalProperties: inputSchema(extraValueSchema),
  };
}

function ingestBody(): Record<string, unknown> {
  const frame = jsonFrameSchema();
  const lines = (description: string) => ({ schema: { type: "string", description } });
  return {
    required: true,
    description: "One frame or many (at most 10,000 lines, 5 MiB). No content type means text.",
    content: {
      "text/plain": lines(
        "key:value lines, e.g. roll:15.2,pitch:8.1,alt:150,ts:2026-11-26T10:00:00Z",
      ),
      "application/x-ndjson": lines("One JSON frame object per line"),
      "application/octet-stream": lines("Read as text/plain"),
      "application/json": {
        schema: {
          oneOf: [
            frame,
            { type: "array", items: frame },
            {
              type: "object",
              properties: { data: { type: "string" } },
              required: ["data"],
              description: "Text read as the body",
            },
          ],
        },
      },
    },
  };
}

const OPERATOR = [{ bearer: [] }, { apikey: [] }];

function paths(): Record<string, Record<string, Operation>> {
  const analyticsErrors = errors(400, 401, 403, 404, 503);
  const deviceAction = (summary: string, answer: AnswerName): Operation => ({
    summary,
    security: OPERATOR,
    parameters: [{ name: "id", in: "path", required: true, schema: UUID_SCHEMA }],
    responses: { "200": ok(summary, ref(answer)), ...errors(400, 401, 403, 404, 503) },
  });
  return {
    "/health": {
      get: {
        summary: "Is the pipeline healthy (no credential needed)",
        security: [],
        responses: {
          "200": ok("Healthy or degraded", ref("Health")),
          "503": ok("Unhealthy: the database is unreachable", ref("Health")),
        },
      },
    },
    "/config": {
      get: {
        summary: "The field catalogue and pipeline settings (any valid key)",
        security: OPERATOR,
        responses: { "200": ok("The catalogue", ref("Config")), ...errors(401, 503) },
      },
    },
    "/config/openapi.json": {
      get: {
        summary: "This document (any valid key)",
        security: OPERATOR,
        responses: {
          "200": ok("OpenAPI 3.1", { type: "object", required: ["openapi", "paths"] }),
          ...errors(401),
        },
      },
    },
    "/telemetry-parse": {
      post: {
        summary: "Store telemetry frames as a device",
        security: [{ bearer: [] }, { deviceKey: [] }],
        parameters: [
          queryParam("store", { type: "string", enum: ["true", "false"] }, "false: validate only"),
          queryParam(
            "stream",
            { type: "string", enum: ["true", "false"] },
            "true: read a chunked body line by line, storing as it arrives",
          ),
          queryParam(
            "max_seconds",
            { type: "string", pattern: "^[0-9]+$" },
            "With stream=true: answer after this many seconds (1 to TELEMETRY_STREAM_MAX_SECONDS)",
          ),
          {
            name: "Idempotency-Key",
            in: "header",
            description: "A retry with the same key stores nothing twice and replays the answer",
            schema: { type: "string", minLength: 1, maxLength: 255 },
          },
        ],
        requestBody: ingestBody(),
        responses: {
          "200": ok("Stored (or checked, with store=false)", {
            oneOf: [ref("ParseOne"), ref("ParseMany")],
          }),
          ...errors(400, 401, 408, 413, 415, 422, 429, 503),
        },
      },
      get: {
        summary: "Where a device resumes: its newest stored recorded_at",
        security: [{ bearer: [] }, { deviceKey: [] }],
        responses: { "200": ok("The resume point", ref("ResumePoint")), ...errors(401, 503) },
      },
    },
    "/telemetry-query": {
      get: {
        summary: "Read frames back (own devices; service role all)",
        security: OPERATOR,
        parameters: telemetryQueryParameters(),
        responses: {
          "200": {
            description: "A page (json) or every frame of the query (csv, ndjson)",
            content: {
              "application/json": { schema: ref("Query") },
              "text/csv": { schema: { type: "string" } },
              "application/x-ndjson": { schema: { type: "string" } },
            },
          },
          ...errors(400, 401, 403, 404, 503),
        },
      },
    },
    "/telemetry-batch-flush": {
      post: {
        summary: "Flush staged frames now (service role)",
        security: OPERATOR,
        responses: { "200": ok("Flushed", ref("Flush")), ...errors(401, 403, 503) },
      },
    },
    "/telemetry-batch-status": {
      get: {
        summary: "Pipeline status (any operator)",
        security: OPERATOR,
        responses: { "200": ok("Status", ref("BatchStatus")), ...errors(401, 403, 503) },
      },
    },
    "/devices": {
      get: {
        summary: "List devices (own; service role all)",
        security: OPERATOR,
        responses: { "200": ok("Devices", ref("Devices")), ...errors(401, 403, 503) },
      },
      post: {
        summary: "Register a device; its key is in this answer only",
        security: OPERATOR,
        requestBody: {
          required: true,
          content: { "application/json": { schema: inputSchema(createDeviceSchema) } },
        },
        responses: {
          "201": ok("Created", ref("DeviceKey")),
          ...errors(400, 401, 403, 413, 415, 503),
        },
      },
    },
    "/devices/{id}/revoke": { post: deviceAction("Revoke a device's key", "Revoked") },
    "/devices/{id}/rotate": { post: deviceAction("Give a device a new key", "DeviceKey") },
    "/telemetry-live": {
      get: {
        summary: "A device's frames as Server-Sent Events",
        security: OPERATOR,
        parameters: [
          ...parametersOf(liveParamsSchema),
          {
            name: "Last-Event-ID",
            in: "header",
            description: "Resume after this event",
            schema: { type: "string" },
          },
        ],
        responses: {
          "200": ok(
            "Events frame, gap, unavailable and end",
            { type: "string" },
            "text/event-stream",
          ),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    "/telemetry-analytics": {
      get: {
        summary: "Rollups per hour or day",
        security: OPERATOR,
        parameters: parametersOf(rollupsParamsSchema),
        responses: { "200": ok("Rollups", ref("Rollups")), ...analyticsErrors },
      },
    },
    "/telemetry-analytics/flights": {
      get: {
        summary: "A device's flights, newest first",
        security: OPERATOR,
        parameters: parametersOf(flightsParamsSchema),
        responses: { "200": ok("Flights", ref("Flights")), ...analyticsErrors },
      },
    },
    "/telemetry-analytics/monitor": {
      get: {
        summary: "Pipeline monitor",
        security: OPERATOR,
        responses: { "200": ok("Monitor", ref("Monitor")), ...errors(400, 401, 403, 503) },
      },
    },
    "/telemetry-analytics/internals": {
      get: {
        summary: "Database internals (service role)",
        security: OPERATOR,
        responses: { "200": ok("Internals", ref("Internals")), ...errors(400, 401, 403, 503) },
      },
    },
  };
}

const built = new Map<string, Record<string, unknown>>();

/**
 * The OpenAPI 3.1 document, built once per functions URL.
 * @param functionsUrl the server the paths are relative to, e.g. https://<ref>.supabase.co/functions/v1
 */
export function openApiDocument(functionsUrl: string): Record<string, unknown> {
  const cached = built.get(functionsUrl);
  if (cached) return cached;
  const document = {
    openapi: "3.1.0",
    info: {
      title: "Drone telemetry API",
      version: "1.0.0",
      description: "Supabase Edge Functions. Every error is the Error schema with its status.",
    },
    servers: [{ url: functionsUrl }],
    paths: paths(),
    components: {
      schemas: answerComponents(),
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "A user JWT, the service_role JWT, a secret or publishable key; " +
            "for telemetry-parse the device key",
        },
        apikey: { type: "apiKey", in: "header", name: "apikey" },
        deviceKey: { type: "apiKey", in: "header", name: "x-device-key" },
      },
    },
  };
  built.set(functionsUrl, document);
  return document;
}
