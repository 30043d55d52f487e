import { createDeps } from "../../../shared/platform/deps.ts";
import { createDevicesHandler } from "./handler.ts";

Deno.serve(createDevicesHandler(createDeps(Deno.env.toObject(), "devices")));
