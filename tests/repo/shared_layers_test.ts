/**
 * shared/ is grouped by concern into folders that stand on each other in one order: a folder
 * imports only from itself and from folders below it, so a reader can take the tree from the
 * bottom up. Deployable modules never import test helpers, scripts or a function's folder, and
 * only a handful of files lie loose in shared/.
 */
import { assert, assertEquals } from "@std/assert";
import { dirname, join, normalize, relative } from "node:path";
import { PROJECT_ROOT } from "../../scripts/stack/layout.ts";

/** The folders of shared/, lowest first; folders on one level never import each other. */
const LEVELS: Record<string, number> = {
  platform: 0,
  catalogue: 1,
  auth: 2,
  query: 2,
  live: 2,
  ingest: 3,
  api: 4,
};
const SHARED = join(PROJECT_ROOT, "shared");

async function modules(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      if (entry.isDirectory) await walk(child);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) files.push(child);
    }
  };
  await walk(SHARED);
  return files.sort();
}

function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
}

Deno.test("every folder of shared/ has a level, and shared/ has at most a few loose files", async () => {
  const loose: string[] = [];
  for await (const entry of Deno.readDir(SHARED)) {
    if (entry.isDirectory) assert(entry.name in LEVELS, `shared/${entry.name} has no level`);
    else loose.push(entry.name);
  }
  assert(loose.length <= 3, `loose files in shared/: ${loose.join(", ")}`);
});

Deno.test("a folder of shared/ imports only from itself and from lower folders", async () => {
  const wrong: string[] = [];
  for (const file of await modules()) {
    const folder = relative(SHARED, file).split("/")[0]!;
    for (const spec of relativeImports(await Deno.readTextFile(file))) {
      const target = relative(PROJECT_ROOT, normalize(join(dirname(file), spec)));
      const name = `${relative(PROJECT_ROOT, file)} -> ${target}`;
      if (!target.startsWith("shared/")) {
        wrong.push(`${name} (outside shared/)`);
        continue;
      }
      const targetFolder = target.split("/")[1]!;
      if (targetFolder === folder) continue;
      if (!((LEVELS[targetFolder] ?? 99) < (LEVELS[folder] ?? -1))) wrong.push(name);
    }
  }
  assertEquals(wrong, []);
});
