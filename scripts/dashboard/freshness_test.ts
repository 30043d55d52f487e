import { assertEquals } from "@std/assert";
import { agoText, GAP_SHOWN_MS, liveState, seenText } from "./freshness.js";
import { timeRange, valueRange } from "./charts.js";

const NOW = Date.parse("2026-12-04T12:00:00Z");

Deno.test("seenText takes the newer of last_seen_at and the newest frame the page knows of", () => {
  // last_seen_at is written at most once a minute; a device sending at 5 Hz was heard just now.
  const device = { "last_seen_at": "2026-12-04T11:59:21Z", "revoked_at": null };
  assertEquals(seenText(device, NOW - 300, NOW), "seen 0 s ago");
  assertEquals(seenText(device, undefined, NOW), "seen 39 s ago");
  assertEquals(seenText({ "last_seen_at": null }, undefined, NOW), "never seen");
  assertEquals(seenText({ ...device, "revoked_at": "2026-12-04T11:00:00Z" }, NOW, NOW), "revoked");
});

Deno.test("agoText counts seconds, then minutes, hours and days", () => {
  assertEquals(
    [4_000, 119_000, 150_000, 3 * 3600_000, 5 * 86400_000].map(agoText),
    ["4 s ago", "119 s ago", "3 min ago", "3 h ago", "5 d ago"],
  );
});

Deno.test("liveState says live only while frames arrive on an open stream", () => {
  assertEquals(liveState("live", NOW - 2_000, NOW), "live");
  assertEquals(liveState("live", NOW - 108_000, NOW), "idle");
  assertEquals(liveState("live", null, NOW), "idle");
  assertEquals(liveState("reconnecting", NOW, NOW), "reconnecting");
});

Deno.test("liveState says gap for a moment after one, then live again while frames arrive", () => {
  assertEquals(liveState("live", NOW, NOW, NOW - 1_000), "gap");
  assertEquals(liveState("live", NOW, NOW, NOW - GAP_SHOWN_MS), "gap");
  assertEquals(liveState("live", NOW, NOW, NOW - GAP_SHOWN_MS - 1), "live");
  assertEquals(liveState("live", null, NOW, NOW - 60_000), "idle");
  // A stream that is down says so, gap or not.
  assertEquals(liveState("reconnecting", NOW, NOW, NOW), "reconnecting");
});

Deno.test("valueRange widens millimetre noise to the quantity's minimum span", () => {
  const [low, high] = valueRange(41.097, 41.099, 5);
  assertEquals(Number((high - low).toFixed(6)), 5.5);
  assertEquals(Number(((low + high) / 2).toFixed(3)), 41.098);
  assertEquals(valueRange(0, 100, 5), [-5, 105]);
  assertEquals(valueRange(null, null, 5), [0, 5]);
});

Deno.test("timeRange keeps one lone frame on an axis of a minute, not years", () => {
  const t = NOW / 1000 - 108;
  assertEquals(timeRange(t, t, 60, NOW / 1000), [t - 60, t]);
  assertEquals(timeRange(t - 600, t, 60, NOW / 1000), [t - 600, t]);
  assertEquals(timeRange(null, null, 60, NOW / 1000), [NOW / 1000 - 60, NOW / 1000]);
});
