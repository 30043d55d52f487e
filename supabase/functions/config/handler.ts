/**
 * GET /config: the field catalogue and pipeline settings; GET /config/openapi.json: the OpenAPI
 * description of every function (shared/api/openapi.ts). Any valid JWT or API key may read them
 * (the anon and publishable keys included): they describe the API, not anyone's data.
 */
import { openApiDocument } from "../../../shared/api/openapi.ts";
import { identifyCaller } from "../../../shared/auth/operator_auth.ts";
import { FIELDS, telemetryFieldDescriptions } from "../../../shared/catalogue/catalogue.ts";
import { callRpc } from "../../../shared/platform/db.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import {
  HttpError,
  jsonResponse,
  requireMethod,
  subPath,
  withBoundary,
} from "../../../shared/platform/http.ts";
import { PARSER_VERSION } from "../../../shared/ingest/parser.ts";

interface Settings {
  "batch_size": number;
  "max_retries": number;
  "retention_months": number;
}

interface BatchStatus {
  "flush_schedule": string | null;
}

export function createConfigHandler(deps: Deps): (request: Request) => Promise<Response> {
  return withBoundary("config", deps.logger, async (request, context) => {
    const path = subPath(request, "config");
    if (path !== "/" && path !== "/openapi.json") {
      throw new HttpError(
        404,
        "not_found",
        `No route ${path}; use /config or /config/openapi.json`,
      );
    }
    requireMethod(request, "GET");
    const caller = await identifyCaller(request, deps.config);
    context.log.role = caller.role;
    if (path === "/openapi.json") {
      return jsonResponse(openApiDocument(`${deps.config.supabaseUrl}/functions/v1`));
    }
    const [settings, status] = await Promise.all([
      callRpc<Settings>(deps.db, "get_settings"),
      callRpc<BatchStatus>(deps.db, "get_batch_status"),
    ]);
    return jsonResponse({
      telemetry_fields: telemetryFieldDescriptions(),
      fields: FIELDS.map((field) => ({
        name: field.name,
        type: field.kind,
        sql_type: field.sqlType,
        unit: field.unit,
        min: field.min,
        max: field.max,
        max_length: field.maxLength,
        aliases: field.aliases,
        description: field.description,
        group: field.group,
      })),
      "batch_size": settings.batch_size,
      "max_retries": settings.max_retries,
      "retention_months": settings.retention_months,
      flush_interval: status.flush_schedule,
      parser_version: PARSER_VERSION,
      limits: {
        max_body_bytes: deps.config.limits.maxBodyBytes,
        max_lines: deps.config.limits.maxLines,
        rate_limit_per_minute: deps.config.limits.ratePerMinute,
        // A device that paces itself by these never sees a 429 (README, "Limits and quotas").
        frames_per_second: deps.config.limits.framesPerSecond,
        bytes_per_second: deps.config.limits.bytesPerSecond,
      },
      supabase_project_id: deps.config.supabaseProjectId,
      timestamp: deps.now().toISOString(),
    });
  }, deps.now);
}
