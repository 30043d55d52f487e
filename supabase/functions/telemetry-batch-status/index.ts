import { createDeps } from "../../../shared/platform/deps.ts";
import { createBatchStatusHandler } from "./handler.ts";

Deno.serve(createBatchStatusHandler(createDeps(Deno.env.toObject(), "telemetry-batch-status")));
