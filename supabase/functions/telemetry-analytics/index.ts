import { createDeps } from "../../../shared/platform/deps.ts";
import { createAnalyticsHandler } from "./handler.ts";

Deno.serve(createAnalyticsHandler(createDeps(Deno.env.toObject(), "telemetry-analytics")));
