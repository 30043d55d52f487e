import { createDeps } from "../../../shared/deps.ts";
import { createBatchStatusHandler } from "./handler.ts";

Deno.serve(createBatchStatusHandler(createDeps(Deno.env.toObject(), "telemetry-batch-status")));
