import { assertEquals } from "@std/assert";
import { createWatchedDevices, WATCHED_STATE_MS } from "./watched_devices.ts";

Deno.test("a device is wanted live until a round trip finds it unwatched, and again once that is old", () => {
  let now = 1_000_000;
  const watched = createWatchedDevices(() => now);
  assertEquals(watched.wanted("a"), true, "never asked: its frames are made into entries");
  watched.learned(["a", "b"], [null, "1796101940648"]);
  assertEquals([watched.wanted("a"), watched.wanted("b")], [false, true]);
  now += WATCHED_STATE_MS;
  assertEquals(watched.wanted("a"), false, "still within the round trip's time");
  now += 1;
  assertEquals(watched.wanted("a"), true, "too old to stand in for the device");
  watched.learned(["a"], ["1796101940648"]);
  assertEquals(watched.wanted("a"), true);
});

Deno.test("many devices empty the record rather than grow it: every device is wanted again", () => {
  const watched = createWatchedDevices(() => 0);
  watched.learned(["a"], [null]);
  assertEquals(watched.wanted("a"), false);
  const many = Array.from({ length: 10_000 }, (_, i) => `d${i}`);
  watched.learned(many, many.map(() => null));
  assertEquals(watched.wanted("a"), true);
  assertEquals(watched.wanted("d1"), false);
});
