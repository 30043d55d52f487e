import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { fitView, mercator, metresPerPixel, scaleBar, toPixel } from "./track.js";

Deno.test("mercator puts null island at the centre and the antimeridian at the edges", () => {
  assertEquals(mercator(0, 0), { x: 0.5, y: 0.5 });
  assertEquals(mercator(0, -180).x, 0);
  assert(mercator(47, 8).y < 0.5, "north is up");
});

Deno.test("fitView keeps every point inside the canvas, padding included", () => {
  const points = [{ lat: 47.3977, lon: 8.5456 }, { lat: 47.3990, lon: 8.5480 }, {
    lat: 47.3965,
    lon: 8.5440,
  }];
  const view = fitView(points, 400, 300, 20);
  for (const point of points) {
    const { x, y } = toPixel(view, 400, 300, point);
    assert(x >= 19.99 && x <= 380.01 && y >= 19.99 && y <= 280.01, `${x},${y}`);
  }
});

Deno.test("fitView of one point stops at the maximum zoom", () => {
  const view = fitView([{ lat: 47.4, lon: 8.5 }], 400, 300);
  assertEquals(view.zoom, 20);
  assertEquals(toPixel(view, 400, 300, { lat: 47.4, lon: 8.5 }), { x: 200, y: 150 });
});

Deno.test("metresPerPixel matches the Web Mercator ground resolution", () => {
  assertAlmostEquals(metresPerPixel(0, 0), 156_543.03, 0.01);
  assertAlmostEquals(metresPerPixel(60, 1), 156_543.03 / 4, 0.01);
});

Deno.test("scaleBar picks the longest 1-2-5 length that fits", () => {
  assertEquals(scaleBar(1, 130), { metres: 100, pixels: 100, label: "100 m" });
  assertEquals(scaleBar(0.5, 130), { metres: 50, pixels: 100, label: "50 m" });
  assertEquals(scaleBar(20, 130), { metres: 2000, pixels: 100, label: "2 km" });
  assertEquals(scaleBar(0.01, 130).label, "1 m");
});
