import { assertEquals, assertRejects } from "@std/assert";
import { StackError } from "./processes.ts";
import { checkInstalled } from "./requirements.ts";

Deno.test("checkInstalled names a missing Debian package with the command that installs it", async () => {
  const error = await assertRejects(
    () => checkInstalled([["/nonexistent/pg_cron.so", "postgresql-15-cron"]]),
    StackError,
  );
  assertEquals(
    error.message,
    "Missing: postgresql-15-cron. Install with: sudo apt-get install -y postgresql-15-cron  (or run: bash scripts/install.sh)",
  );
});

Deno.test("checkInstalled names a missing npm tool with npm ci", async () => {
  const error = await assertRejects(
    () => checkInstalled([["/nonexistent/supabase", "npm package supabase"]]),
    StackError,
  );
  assertEquals(
    error.message,
    "Missing: npm package supabase. Install with: npm ci --prefix scripts/tools  (or run: bash scripts/install.sh)",
  );
});

Deno.test("checkInstalled passes when every file exists", async () => {
  await checkInstalled([[Deno.execPath(), "deno"]]);
});
