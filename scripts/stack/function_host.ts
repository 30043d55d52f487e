/**
 * Runs one function's unmodified index.ts as Supabase's edge runtime would, in a process of its
 * own. A hosted index.ts calls `Deno.serve(handler)` without a port (the runtime routes requests
 * to it); here we pin that call to the port the gateway forwards to.
 * Usage: deno run ... function_host.ts <path/to/index.ts>   (env FUNCTION_PORT)
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const entrypoint = Deno.args[0];
const port = Number(Deno.env.get("FUNCTION_PORT"));
if (!entrypoint || !port) throw new Error("Usage: function_host.ts <index.ts> with FUNCTION_PORT");

type Handler = Deno.ServeHandler;
const serve = Deno.serve;

function pinnedServe(...args: unknown[]): Deno.HttpServer {
  const handler = args.find((arg): arg is Handler => typeof arg === "function") ??
    (args.find((arg) => typeof arg === "object" && arg !== null && "handler" in arg) as
      | { handler: Handler }
      | undefined)?.handler;
  if (!handler) throw new Error("Deno.serve was called without a handler");
  return serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
}

Object.defineProperty(Deno, "serve", { value: pinnedServe });
await import(pathToFileURL(resolve(entrypoint)).href);
