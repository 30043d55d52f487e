import { assertEquals } from "@std/assert";
import { frameLine, lineProtocol } from "./line_protocol.ts";
import { realisticFrame } from "./frames.ts";

Deno.test("frameLine writes a tag, typed fields and the time in milliseconds", () => {
  assertEquals(
    frameLine("dev 1", {
      recorded_at: "2026-12-01T00:00:00.123Z",
      flight_mode: 'AU"TO',
      armed: true,
      roll_degrees: 1.5,
      gps_satellites: 9,
    }),
    'telemetry,device_id=dev\\ 1 flight_mode="AU\\"TO",armed=true,roll_degrees=1.5,' +
      "gps_satellites=9i 1796083200123",
  );
});

Deno.test("lineProtocol writes one line per frame with every field but recorded_at", () => {
  const frames = [0, 1].map((i) => realisticFrame(i, new Date(1e12 + i).toISOString()));
  const lines = lineProtocol("d", frames).split("\n");
  assertEquals(lines.length, 2);
  const fields = (lines[0] ?? "").split(" ")[1]?.split(",") ?? [];
  assertEquals(fields.length, Object.keys(frames[0] ?? {}).length - 1);
  assertEquals(lines[1]?.endsWith(" 1000000000001"), true);
});
