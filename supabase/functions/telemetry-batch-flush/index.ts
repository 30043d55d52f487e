import { createDeps } from "../../../shared/platform/deps.ts";
import { createBatchFlushHandler } from "./handler.ts";

Deno.serve(createBatchFlushHandler(createDeps(Deno.env.toObject(), "telemetry-batch-flush")));
