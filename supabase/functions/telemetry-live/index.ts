import { createDeps } from "../../../shared/platform/deps.ts";
import { createLiveFeed } from "../../../shared/live/live_feed.ts";
import { createLiveHandler } from "./handler.ts";

const deps = createDeps(Deno.env.toObject(), "telemetry-live");
Deno.serve(createLiveHandler(deps, createLiveFeed(deps.config.redis, deps.logger)));
