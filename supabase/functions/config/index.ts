import { createDeps } from "../../../shared/platform/deps.ts";
import { createConfigHandler } from "./handler.ts";

Deno.serve(createConfigHandler(createDeps(Deno.env.toObject(), "config")));
