import { assertEquals, assertMatch } from "@std/assert";
import { createLogger, createMemoryLogger, type LogLevel } from "./log.ts";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A logger writing into an array, and the lines it wrote parsed back. */
function capture(base: Record<string, unknown> = {}) {
  const written: { level: LogLevel; line: string }[] = [];
  const logger = createLogger(base, (level, line) => written.push({ level, line }));
  const parsed = () =>
    written.map(({ level, line }) => {
      const { time, ...rest } = JSON.parse(line);
      assertMatch(time, ISO);
      return { sink: level, ...rest };
    });
  return { logger, written, parsed };
}

Deno.test("createLogger writes one JSON line per call with level, message and fields", () => {
  const { logger, written, parsed } = capture({ function: "health" });
  logger.info("request", { status: 200 });
  logger.warn("cache unavailable", { operation: "get" });
  logger.error("unhandled error");
  assertEquals(written.every(({ line }) => !line.includes("\n")), true);
  assertEquals(parsed(), [
    { sink: "info", level: "info", message: "request", function: "health", status: 200 },
    {
      sink: "warn",
      level: "warn",
      message: "cache unavailable",
      function: "health",
      operation: "get",
    },
    { sink: "error", level: "error", message: "unhandled error", function: "health" },
  ]);
});

Deno.test("createLogger redacts fields whose names suggest a secret", async (t) => {
  const cases: [string, boolean][] = [
    ["authorization", true],
    ["Authorization", true],
    ["apikey", true],
    ["api_key", true],
    ["token", true],
    ["access_token", true],
    ["secret", true],
    ["client_secret", true],
    ["password", true],
    ["device_key", true],
    ["key", true],
    ["device_id", false],
    ["status", false],
    ["keys", false],
    ["error", false],
  ];
  for (const [name, redacted] of cases) {
    await t.step(`${name} ${redacted ? "is" : "is not"} redacted`, () => {
      const { logger, parsed } = capture();
      logger.info("x", { [name]: "value" });
      assertEquals(parsed(), [
        { sink: "info", level: "info", message: "x", [name]: redacted ? "[redacted]" : "value" },
      ]);
    });
  }
});

Deno.test("createLogger keeps values that are not strings as JSON", () => {
  const { logger, parsed } = capture();
  logger.info("x", { count: 3, ok: true, nothing: null, list: [1, "a"], nested: { a: 1 } });
  assertEquals(parsed(), [{
    sink: "info",
    level: "info",
    message: "x",
    count: 3,
    ok: true,
    nothing: null,
    list: [1, "a"],
    nested: { a: 1 },
  }]);
});

Deno.test("createMemoryLogger keeps each line parsed, in order", () => {
  const logger = createMemoryLogger();
  logger.info("first", { n: 1 });
  logger.error("second", { token: "abc" });
  const lines = logger.lines.map(({ time, ...rest }) => {
    assertMatch(String(time), ISO);
    return rest;
  });
  assertEquals(lines, [
    { level: "info", message: "first", n: 1 },
    { level: "error", message: "second", token: "[redacted]" },
  ]);
});
