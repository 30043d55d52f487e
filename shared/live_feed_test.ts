import { assertEquals } from "@std/assert";
import { compareEventIds, parseEventId, streamEntries } from "./live_feed.ts";

Deno.test("parseEventId accepts stream ids and refuses anything else", () => {
  assertEquals(parseEventId("1796101940648-12"), [1796101940648n, 12n]);
  assertEquals(parseEventId("0-0"), [0n, 0n]);
  for (const bad of ["", "12", "1-2-3", "-1-0", "a-1", "1-1 ", "1234567890123456-0"]) {
    assertEquals(parseEventId(bad), null, bad);
  }
});

Deno.test("compareEventIds orders by milliseconds, then sequence", () => {
  assertEquals(compareEventIds("2-0", "10-0"), -1);
  assertEquals(compareEventIds("10-3", "10-12"), -1);
  assertEquals(compareEventIds("10-12", "10-12"), 0);
  assertEquals(compareEventIds("11-0", "10-99"), 1);
});

Deno.test("streamEntries reads ids, flights and frames from a raw XRANGE reply", () => {
  assertEquals(
    streamEntries([
      ["1-0", ["flight", "f1", "frame", '{"a":1}']],
      ["1-1", ["flight", "", "frame", '{"a":2}']],
      ["1-2", ["frame"]],
      ["1-3", ["flight", "frame", "frame", '{"a":3}']],
      "junk",
    ]),
    [
      { id: "1-0", flightId: "f1", data: '{"a":1}' },
      { id: "1-1", flightId: null, data: '{"a":2}' },
      { id: "1-3", flightId: "frame", data: '{"a":3}' },
    ],
  );
  assertEquals(streamEntries(null), []);
});
