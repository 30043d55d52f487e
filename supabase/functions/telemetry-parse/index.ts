import { createDeps } from "../../../shared/platform/deps.ts";
import { createParseHandler } from "./handler.ts";

Deno.serve(createParseHandler(createDeps(Deno.env.toObject(), "telemetry-parse")));
