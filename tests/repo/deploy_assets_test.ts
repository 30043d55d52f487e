/**
 * Every function deploys with the pinned Supabase CLI: `supabase functions deploy --use-api`
 * uploads the files it collects from the function's import graph, and a module it missed would
 * be absent on the hosted edge. The CLI lists what it collected under --debug before it reaches
 * the network, which this machine has not, so the check runs offline: each module of the
 * function's own graph (`deno info --json`) that lies in the repository, and `import_map.json`,
 * must be in that list, and the CLI must print no WARN line (a deprecated config.toml section).
 */
import { assert, assertEquals } from "@std/assert";
import { parse } from "@std/toml";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { BIN_DIR, PROJECT_ROOT } from "../../scripts/stack/layout.ts";

const config = parse(await Deno.readTextFile(join(PROJECT_ROOT, "supabase/config.toml")));
const functions = Object.keys(config.functions as Record<string, unknown>);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** What `supabase functions deploy --use-api --debug` printed for one function. */
async function deployOutput(name: string): Promise<string> {
  const output = await new Deno.Command(join(BIN_DIR, "supabase"), {
    args: [
      "functions",
      "deploy",
      name,
      "--use-api",
      "--project-ref",
      "abcdefghijklmnopqrst",
      "--debug",
    ],
    cwd: PROJECT_ROOT,
    // A token of the right shape: the CLI checks it locally, then fails on the network.
    env: { SUPABASE_ACCESS_TOKEN: `sbp_${"0".repeat(40)}`, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return decode(output.stdout) + decode(output.stderr);
}

/** Repository files of a function's import graph, relative to the root. */
async function localGraph(name: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `supabase/functions/${name}/index.ts`],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, decode(output.stderr));
  const info: { modules: { specifier: string }[] } = JSON.parse(decode(output.stdout));
  return info.modules
    .map((module) => module.specifier)
    .filter((specifier) => specifier.startsWith("file://"))
    .map((specifier) => relative(PROJECT_ROOT, fileURLToPath(specifier)))
    .filter((path) => !path.startsWith(".."))
    .sort();
}

assert(functions.length >= 9, `config.toml names ${functions.length} functions`);

for (const name of functions) {
  Deno.test(`supabase functions deploy --use-api collects every module of ${name}`, async () => {
    const output = await deployOutput(name);
    const uploaded = new Set(
      [...output.matchAll(/^Uploading asset \(([^)]+)\): (.+)$/gm)]
        .filter((match) => match[1] === name)
        .map((match) => match[2]!.trim()),
    );
    assert(uploaded.size > 0, `the CLI listed no assets for ${name}:\n${output}`);
    const graph = await localGraph(name);
    assert(graph.some((path) => path.startsWith("shared/")), `${name} imports nothing of shared/`);
    const missing = [...graph, "import_map.json"].filter((path) => !uploaded.has(path));
    assertEquals(missing, [], `modules of ${name} the CLI would not upload`);
    const warnings = output.split("\n").filter((line) => /\bWARN/.test(line));
    assertEquals(warnings, [], `the CLI warned while deploying ${name}`);
  });
}
