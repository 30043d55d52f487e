import { assertEquals, assertThrows } from "@std/assert";
import { parseEnvText } from "./env_file.ts";

Deno.test("parseEnvText reads dotenv lines as supabase functions serve --env-file does", () => {
  const text = [
    "# limits",
    "TELEMETRY_MAX_LINES=500",
    "export QUERY_CACHE_SECONDS=30   # half a minute",
    `DOUBLE="two words # not a comment"`,
    "SINGLE='$NOT_EXPANDED'",
    "EMPTY=",
    `ESCAPED="a\\nb"`,
    "",
  ].join("\n");
  assertEquals(
    [...parseEnvText(text)],
    [
      ["TELEMETRY_MAX_LINES", "500"],
      ["QUERY_CACHE_SECONDS", "30"],
      ["DOUBLE", "two words # not a comment"],
      ["SINGLE", "$NOT_EXPANDED"],
      ["EMPTY", ""],
      ["ESCAPED", "a\nb"],
    ],
  );
});

Deno.test("parseEnvText names the line that is not NAME=value", () => {
  assertThrows(
    () => parseEnvText("A=1\nnot an assignment\n"),
    SyntaxError,
    'Line 2 is not NAME=value: "not an assignment"',
  );
  assertThrows(() => parseEnvText(`A="open`), SyntaxError, 'Line 1 has an unclosed " quote');
});
