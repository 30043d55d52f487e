import { assertEquals } from "@std/assert";
import { SseParser } from "./sse.js";

const FRAME = 'id: 1-0\nevent: frame\ndata: {"altitude_m":12}\n\n';

Deno.test("SseParser returns a frame event with its id and data", () => {
  assertEquals(new SseParser().push(FRAME), [
    { event: "frame", data: '{"altitude_m":12}', id: "1-0", retry: null },
  ]);
});

Deno.test("SseParser completes an event cut anywhere across chunks", () => {
  for (let cut = 1; cut < FRAME.length; cut++) {
    const parser = new SseParser();
    const events = [...parser.push(FRAME.slice(0, cut)), ...parser.push(FRAME.slice(cut))];
    assertEquals(events.length, 1, `cut at ${cut}`);
    assertEquals(events[0]?.id, "1-0");
  }
});

Deno.test("SseParser skips comments and a retry-only block yields its retry", () => {
  const events = new SseParser().push(": connected\n\n: heartbeat\n\nretry: 1000\n\n");
  assertEquals(events, [{ event: "message", data: "", id: null, retry: 1000 }]);
});

Deno.test("SseParser joins multi-line data and accepts CRLF split between chunks", () => {
  const parser = new SseParser();
  const events = [
    ...parser.push("event: end\r"),
    ...parser.push("\ndata: a\r\ndata: b\r\nretry: 5000\r\n\r\n"),
  ];
  assertEquals(events, [{ event: "end", data: "a\nb", id: null, retry: 5000 }]);
});

Deno.test("SseParser holds an unfinished event until its blank line arrives", () => {
  const parser = new SseParser();
  assertEquals(parser.push("event: frame\ndata: {}\n"), []);
  assertEquals(parser.push("\n").length, 1);
});
