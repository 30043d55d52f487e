import { assertEquals } from "@std/assert";
import { parseRollupsRequest, windowOf } from "./_params.ts";

const ID = "11111111-1111-4111-8111-111111111111";

Deno.test("parseRollupsRequest defaults to hourly buckets over the last 7 days", () => {
  const parsed = parseRollupsRequest(new URLSearchParams({ device_id: ID }));
  assertEquals(parsed.ok, true);
  if (!parsed.ok) return;
  assertEquals(parsed.request.bucket, "hour");
  const now = new Date("2026-11-26T12:00:00Z");
  assertEquals(windowOf(parsed.request, now), {
    from: new Date("2026-11-19T12:00:00Z"),
    to: now,
  });
});

Deno.test("parseRollupsRequest names every bad parameter", () => {
  const parsed = parseRollupsRequest(
    new URLSearchParams({ device_id: "x", bucket: "week", from: "soon", extra: "1" }),
  );
  assertEquals(
    parsed.ok ? [] : parsed.problems.map((problem) => problem.parameter),
    ["extra", "device_id", "bucket", "from"],
  );
});

Deno.test("parseRollupsRequest refuses an inverted or too long range", () => {
  const inverted = parseRollupsRequest(
    new URLSearchParams({
      device_id: ID,
      from: "2026-11-02T00:00:00Z",
      to: "2026-11-01T00:00:00Z",
    }),
  );
  assertEquals(inverted.ok ? [] : inverted.problems.map((p) => p.parameter), ["to"]);
  const long = parseRollupsRequest(
    new URLSearchParams({
      device_id: ID,
      from: "2026-01-01T00:00:00Z",
      to: "2026-11-01T00:00:00Z",
    }),
  );
  assertEquals(long.ok ? [] : long.problems.map((p) => p.parameter), ["from"]);
});
