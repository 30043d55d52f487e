import { assert, assertEquals } from "@std/assert";
import {
  chunkFrames,
  compareEventIds,
  createLiveWindow,
  LIVE_MAX_FRAMES_PER_REQUEST,
  LIVE_MAX_LINE_CHARS_PER_REQUEST,
  LIVE_MAX_LINE_CHARS_PER_STREAM_CHUNK,
  parseEventId,
  streamEntries,
} from "./live_feed.ts";

Deno.test("parseEventId accepts frame and entry ids and refuses anything else", () => {
  assertEquals(parseEventId("1796101940648-12/3"), {
    entry: [1796101940648n, 12n],
    entryId: "1796101940648-12",
    index: 3,
  });
  assertEquals(parseEventId("0-0"), { entry: [0n, 0n], entryId: "0-0", index: null });
  for (
    const bad of ["", "12", "1-2-3", "-1-0", "a-1", "1-1 ", "1234567890123456-0", "1-0/", "1-0/a"]
  ) {
    assertEquals(parseEventId(bad), null, bad);
  }
  assertEquals(parseEventId("1-0/12345"), null);
});

Deno.test("compareEventIds orders by entry, then index, the whole entry last", () => {
  assertEquals(compareEventIds("2-0", "10-0"), -1);
  assertEquals(compareEventIds("10-3", "10-12"), -1);
  assertEquals(compareEventIds("10-12", "10-12"), 0);
  assertEquals(compareEventIds("11-0", "10-99"), 1);
  assertEquals(compareEventIds("10-0/2", "10-0/10"), -1);
  assertEquals(compareEventIds("10-0/49", "10-0"), -1);
  assertEquals(compareEventIds("10-0", "10-1/0"), -1);
  assertEquals(compareEventIds("10-1/0", "10-0/49"), 1);
});

Deno.test("chunkFrames splits a request into entries of at most the chunk size, newest last", () => {
  const frames = Array.from({ length: 5 }, (_, i) => ({
    roll_degrees: i,
    ...(i < 3 ? { flight_id: "a\nb" } : {}),
  }));
  const chunks = chunkFrames("d1", frames, 2);
  assertEquals(chunks.length, 3);
  assertEquals(chunks.map((chunk) => chunk.frames.split("\n").length), [2, 2, 1]);
  assertEquals(chunks[2]?.frames, '{"device_id":"d1","roll_degrees":4}');
  assertEquals(chunks.map((chunk) => JSON.parse(chunk.flights)), [
    ["a\nb", "a\nb"],
    ["a\nb", null],
    [null],
  ]);
  assertEquals(chunkFrames("d1", []), []);
});

Deno.test("chunkFrames writes each frame as its JSON with the device's id first, without raw_data", () => {
  const frames: Record<string, unknown>[] = [
    { roll_degrees: -1.5, raw_data: '{"roll":-1.5,"note":"a\\"b"}', extra: { k: [1, null] } },
    {},
    { device_id: "sent by the frame", roll_degrees: 2, raw_data: "roll:2" },
  ];
  const [chunk] = chunkFrames('d"1', frames, 3);
  assertEquals(chunk?.frames.split("\n"), [
    JSON.stringify({ device_id: 'd"1', roll_degrees: -1.5, extra: { k: [1, null] } }),
    JSON.stringify({ device_id: 'd"1' }),
    // A frame's own device_id wins, as in a spread.
    JSON.stringify({ device_id: "sent by the frame", roll_degrees: 2 }),
  ]);
  assertEquals(JSON.parse(chunk?.frames.split("\n")[1] ?? ""), { device_id: 'd"1' });
});

Deno.test("streamEntries gives each frame of an entry its own id, flight and text", () => {
  const [first, second] = chunkFrames("d1", [
    { roll_degrees: 1, flight_id: "f1" },
    { roll_degrees: 2 },
  ], 1);
  assertEquals(
    streamEntries([
      ["1-0", ["frames", '{"a":1}\n{"a":2}', "flights", '["f1",null]']],
      ["1-1", ["frames", first!.frames, "flights", first!.flights]],
      ["1-2", ["flights", "[]"]],
      ["1-3", ["flights", "not json", "frames", second!.frames]],
      ["1-4", ["skipped", "1000"]],
      ["1-5", ["skipped", "-1"]],
      "junk",
    ]),
    [
      {
        id: "1-0",
        frames: [
          { id: "1-0/0", flightId: "f1", data: '{"a":1}' },
          { id: "1-0/1", flightId: null, data: '{"a":2}' },
        ],
      },
      {
        id: "1-1",
        frames: [{
          id: "1-1/0",
          flightId: "f1",
          data: '{"device_id":"d1","roll_degrees":1,"flight_id":"f1"}',
        }],
      },
      {
        id: "1-3",
        frames: [{ id: "1-3/0", flightId: null, data: '{"device_id":"d1","roll_degrees":2}' }],
      },
      { id: "1-4", frames: [], skipped: 1000 },
    ],
  );
  assertEquals(streamEntries(null), []);
});

Deno.test("a request's live window keeps its newest frames within the frame and line caps", () => {
  const rows = (count: number, chars: number, from = 0) =>
    Array.from({ length: count }, (_, i) => ({ "raw_data": "x".repeat(chars), n: from + i }));
  const published = (entries: { frames: string }[]) =>
    entries.flatMap((entry) => entry.frames.split("\n").map((frame) => JSON.parse(frame).n));
  const window = createLiveWindow(LIVE_MAX_LINE_CHARS_PER_REQUEST);

  // Small lines: the newest 1,000 frames, across parts.
  window.add(rows(700, 10));
  window.add(rows(700, 10, 700));
  const small = published(window.take("d1"));
  assertEquals(small.length, LIVE_MAX_FRAMES_PER_REQUEST);
  assertEquals([small[0], small.at(-1)], [400, 1399]);
  assertEquals(window.take("d1"), []);

  // Wide lines: as many of the newest as fit the line cap.
  window.add(rows(300, 1000));
  const wide = published(window.take("d1"));
  const fit = Math.floor(LIVE_MAX_LINE_CHARS_PER_REQUEST / 1000);
  assertEquals(wide.length, fit);
  assertEquals([wide[0], wide.at(-1)], [300 - fit, 299]);

  // A line over the cap alone is still the request's newest frame.
  window.add(rows(2, LIVE_MAX_LINE_CHARS_PER_REQUEST + 1));
  assertEquals(published(window.take("d1")), [1]);

  // A stream's chunk has its own, larger cap: the same wide lines all fit.
  assert(LIVE_MAX_LINE_CHARS_PER_STREAM_CHUNK >= 4 * LIVE_MAX_LINE_CHARS_PER_REQUEST);
  const chunkWindow = createLiveWindow(LIVE_MAX_LINE_CHARS_PER_STREAM_CHUNK);
  chunkWindow.add(rows(fit * 4, 1000));
  assertEquals(published(chunkWindow.take("d1")).length, fit * 4);
});
