/**
 * The repository carries every file its tests and scripts read: nothing in tests/, scripts/ or
 * supabase/ names a path above the repository root (a clone with nothing beside it must pass
 * its own tests). Reads the sources as text: a path built from the root and "..", a relative
 * path literal that climbs out of the repository from the file's folder, or a shell path that
 * goes above the root.
 */
import { assertEquals } from "@std/assert";
import { dirname, join, normalize, relative } from "node:path";
import { PROJECT_ROOT } from "../../scripts/stack/layout.ts";

const SOURCE = /\.(ts|js|sh|sql|toml|json)$/;

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const child = join(path, entry.name);
      if (entry.isDirectory) await walk(child);
      else if (SOURCE.test(entry.name)) files.push(child);
    }
  };
  await walk(join(PROJECT_ROOT, dir));
  return files;
}

/** Whether `path`, taken from the folder `from`, ends up outside the repository. */
function leavesRepository(from: string, path: string): boolean {
  return relative(PROJECT_ROOT, normalize(join(from, path))).startsWith("..");
}

/** Lines of one source file that reach above the repository root. */
export function pathsAboveRoot(file: string, text: string): string[] {
  const found: string[] = [];
  const folder = dirname(file);
  text.split("\n").forEach((line, index) => {
    const where = `${relative(PROJECT_ROOT, file)}:${index + 1}: ${line.trim()}`;
    // join(PROJECT_ROOT, "..", ...) or resolve(ROOT, "..")
    if (/\b[A-Z_]*ROOT\b\s*,\s*["']\.\.["']/.test(line)) found.push(where);
    // "$ROOT/.." or "$PROJECT_ROOT/../x" in shell scripts
    if (/\$\{?[A-Z_]*ROOT\}?\/\.\./.test(line)) found.push(where);
    // a relative literal such as "../../../shared/data/x" that climbs out from this folder
    for (const match of line.matchAll(/["'`]((?:\.\.\/)+[^"'`\s]*)["'`]/g)) {
      if (leavesRepository(folder, match[1]!)) found.push(where);
    }
  });
  return found;
}

Deno.test("pathsAboveRoot finds the ways a path can climb out of the repository", () => {
  const file = join(PROJECT_ROOT, "tests/integration/x_test.ts");
  const lines = [
    'const LOG = join(PROJECT_ROOT, "..", "shared", "data", "log.ulg");',
    'const LOG = "../../../shared/data/log.ulg";',
    'cp "$PROJECT_ROOT/../shared/data/x" .',
    'import { x } from "../../shared/ingest/parser.ts";',
    'const FIXTURE = join(PROJECT_ROOT, "tests", "fixtures", "log.ulg");',
  ];
  assertEquals(pathsAboveRoot(file, lines.join("\n")).length, 3);
});

Deno.test("nothing in tests/, scripts/ or supabase/ reads a path above the repository root", async () => {
  const found: string[] = [];
  for (const dir of ["tests", "scripts", "supabase"]) {
    for (const file of await sourceFiles(dir)) {
      if (file.endsWith("self_contained_test.ts")) continue; // its own examples above
      found.push(...pathsAboveRoot(file, await Deno.readTextFile(file)));
    }
  }
  assertEquals(found, []);
});
