import { createDeps } from "../../../shared/deps.ts";
import { createHealthHandler } from "./handler.ts";

Deno.serve(createHealthHandler(createDeps(Deno.env.toObject(), "health")));
