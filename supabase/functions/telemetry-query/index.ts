import { createDeps } from "../../../shared/deps.ts";
import { createTelemetryQueryHandler } from "./handler.ts";

Deno.serve(createTelemetryQueryHandler(createDeps(Deno.env.toObject(), "telemetry-query")));
