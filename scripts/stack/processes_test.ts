import { assertEquals } from "@std/assert";
import { failureSummary } from "./processes.ts";

Deno.test("failureSummary picks the uncaught error out of a function's coloured output", () => {
  const output = [
    "\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Uncaught (in promise) ConfigError: Invalid environment: " +
    "TELEMETRY_MAX_LINES: Invalid input: expected number, received NaN; TELEMETRY_MAX_RETRIES: " +
    "Too small: expected number to be >0",
    '    throw new ConfigError(`Invalid environment: ${problems.join("; ")}`);',
    "\x1b[0m\x1b[31m          ^\x1b[0m",
    "    at \x1b[0m\x1b[1m\x1b[3mloadConfig\x1b[0m (file:///x/shared/platform/config.ts:83:11)",
    "",
  ].join("\n");
  assertEquals(
    failureSummary(output),
    "ConfigError: Invalid environment: TELEMETRY_MAX_LINES: Invalid input: expected number, " +
      "received NaN; TELEMETRY_MAX_RETRIES: Too small: expected number to be >0",
  );
});

Deno.test("failureSummary gives the last lines when no error is named", () => {
  const output = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
  assertEquals(
    failureSummary(output).split("\n"),
    Array.from({ length: 15 }, (_, i) => `line ${i + 6}`),
  );
});
