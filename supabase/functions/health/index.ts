import { createDeps } from "../../../shared/platform/deps.ts";
import { createHealthHandler } from "./handler.ts";

Deno.serve(createHealthHandler(createDeps(Deno.env.toObject(), "health")));
