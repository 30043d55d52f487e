/**
 * The project's Edge Functions as the local stack serves them: one per folder of
 * supabase/functions with an index.ts, each with its `verify_jwt` from config.toml
 * (true when unset, as on Supabase).
 */
import { parse } from "@std/toml";
import { join } from "node:path";
import { PORTS, PROJECT_ROOT } from "./layout.ts";

export interface FunctionSpec {
  name: string;
  entrypoint: string;
  verifyJwt: boolean;
  port: number;
}

const FUNCTIONS_DIR = join(PROJECT_ROOT, "supabase", "functions");

/** Lists the functions, sorted by name, each with the port it is served on. */
export async function listFunctions(): Promise<FunctionSpec[]> {
  const config = parse(await Deno.readTextFile(join(PROJECT_ROOT, "supabase", "config.toml")));
  const sections = config.functions && typeof config.functions === "object"
    ? config.functions as Record<string, Record<string, unknown>>
    : {};
  const names: string[] = [];
  for await (const entry of Deno.readDir(FUNCTIONS_DIR)) {
    if (!entry.isDirectory || entry.name.startsWith("_")) continue;
    try {
      await Deno.stat(join(FUNCTIONS_DIR, entry.name, "index.ts"));
      names.push(entry.name);
    } catch {
      // a folder without an entrypoint is not a function
    }
  }
  return names.sort().map((name, index) => ({
    name,
    entrypoint: join(FUNCTIONS_DIR, name, "index.ts"),
    verifyJwt: sections[name]?.verify_jwt !== false,
    port: PORTS.firstFunction + index,
  }));
}
