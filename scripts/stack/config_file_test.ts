import { assertEquals } from "@std/assert";
import { join } from "node:path";
import { writeConfigFile } from "./config_file.ts";

Deno.test("a config file with the same content is left as it is", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "jwks.json");
  assertEquals(await writeConfigFile(path, '{"keys":[]}'), true);
  const before = await Deno.stat(path);
  assertEquals(await writeConfigFile(path, '{"keys":[]}'), false);
  const after = await Deno.stat(path);
  assertEquals([after.ino, after.mtime?.getTime()], [before.ino, before.mtime?.getTime()]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a changed config file is replaced whole by a rename, leaving no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "postgrest.conf");
  await writeConfigFile(path, "server-port = 1\n");
  const before = await Deno.stat(path);
  // A reader holding the old file keeps reading the old content: it was replaced, not rewritten.
  const reader = await Deno.open(path);
  assertEquals(await writeConfigFile(path, "server-port = 2\n"), true);
  const old = new Uint8Array(64);
  const read = await reader.read(old) ?? 0;
  reader.close();
  assertEquals(new TextDecoder().decode(old.subarray(0, read)), "server-port = 1\n");
  assertEquals(await Deno.readTextFile(path), "server-port = 2\n");
  assertEquals((await Deno.stat(path)).ino === before.ino, false);
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  assertEquals(names, ["postgrest.conf"]);
  await Deno.remove(dir, { recursive: true });
});
