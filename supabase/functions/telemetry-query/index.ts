import { createDeps } from "../../../shared/platform/deps.ts";
import { createTelemetryQueryHandler } from "./handler.ts";

Deno.serve(createTelemetryQueryHandler(createDeps(Deno.env.toObject(), "telemetry-query")));
