import { createDeps } from "../../../shared/deps.ts";
import { createConfigHandler } from "./handler.ts";

Deno.serve(createConfigHandler(createDeps(Deno.env.toObject(), "config")));
