/**
 * The map without tiles: a GPS track drawn on a canvas in Web Mercator (so optional map tiles,
 * when a tile URL is set and the internet is reachable, line up with it), fitted to the canvas,
 * with a scale bar and the current position marked.
 */

const TILE = 256;
const EARTH_CIRCUMFERENCE_M = 40_075_016.686;
/** A hovering drone's track is a dot: stop zooming in at about 0.15 m per pixel. */
const MAX_ZOOM = 20;

/** @typedef {{ lat: number, lon: number }} LatLon */
/** @typedef {{ zoom: number, x: number, y: number }} View  centre in world units (0..1) */

/**
 * @param {number} lat degrees
 * @param {number} lon degrees
 * @returns {{ x: number, y: number }} Web Mercator world coordinates, 0..1 each
 */
export function mercator(lat, lon) {
  const sin = Math.sin((lat * Math.PI) / 180);
  return {
    x: (lon + 180) / 360,
    y: 0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI),
  };
}

/**
 * The view that fits every point into width × height pixels, keeping `padding` free.
 * @param {LatLon[]} points at least one
 * @param {number} width
 * @param {number} height
 * @param {number} [padding]
 * @returns {View}
 */
export function fitView(points, width, height, padding = 24) {
  const world = points.map((p) => mercator(p.lat, p.lon));
  const xs = world.map((p) => p.x);
  const ys = world.map((p) => p.y);
  const [minX, maxX, minY, maxY] = [
    Math.min(...xs),
    Math.max(...xs),
    Math.min(...ys),
    Math.max(...ys),
  ];
  const span = Math.max(
    (maxX - minX) / Math.max(width - 2 * padding, 1),
    (maxY - minY) / Math.max(height - 2 * padding, 1),
  );
  const zoom = span > 0 ? Math.min(MAX_ZOOM, Math.log2(1 / (TILE * span))) : MAX_ZOOM;
  return { zoom: Math.max(0, zoom), x: (minX + maxX) / 2, y: (minY + maxY) / 2 };
}

/**
 * @param {View} view
 * @param {number} width
 * @param {number} height
 * @param {LatLon} point
 * @returns {{ x: number, y: number }} canvas pixels
 */
export function toPixel(view, width, height, point) {
  const world = mercator(point.lat, point.lon);
  const scale = TILE * 2 ** view.zoom;
  return { x: (world.x - view.x) * scale + width / 2, y: (world.y - view.y) * scale + height / 2 };
}

/**
 * @param {number} lat degrees, where the scale is read (Mercator stretches with latitude)
 * @param {number} zoom
 * @returns {number} ground metres per canvas pixel
 */
export function metresPerPixel(lat, zoom) {
  return (EARTH_CIRCUMFERENCE_M * Math.cos((lat * Math.PI) / 180)) / (TILE * 2 ** zoom);
}

/**
 * The longest round length (1, 2 or 5 times a power of ten) that fits in `maxPixels`.
 * @param {number} mpp metres per pixel
 * @param {number} maxPixels
 * @returns {{ metres: number, pixels: number, label: string }}
 */
export function scaleBar(mpp, maxPixels) {
  const most = mpp * maxPixels;
  const power = 10 ** Math.floor(Math.log10(most));
  const metres = ([5, 2, 1].find((n) => n * power <= most) ?? 1) * power;
  const label = metres >= 1000 ? `${metres / 1000} km` : `${Number(metres.toPrecision(3))} m`;
  return { metres, pixels: metres / mpp, label };
}

/** @type {Map<string, HTMLImageElement>} */
const tiles = new Map();

/**
 * Draws the map tiles of the view, when a tile URL ({z}/{x}/{y}) is set; a tile that is still
 * loading redraws the map through `redraw` once it arrives.
 * @param {CanvasRenderingContext2D} ctx
 * @param {View} view
 * @param {number} width
 * @param {number} height
 * @param {string} tileUrl
 * @param {() => void} redraw
 */
function drawTiles(ctx, view, width, height, tileUrl, redraw) {
  const z = Math.min(19, Math.floor(view.zoom));
  const size = TILE * 2 ** (view.zoom - z);
  const count = 2 ** z;
  const left = view.x * count - width / 2 / size;
  const top = view.y * count - height / 2 / size;
  for (let tx = Math.floor(left); tx < left + width / size; tx++) {
    for (let ty = Math.max(0, Math.floor(top)); ty < Math.min(count, top + height / size); ty++) {
      const url = tileUrl.replace("{z}", String(z)).replace(
        "{x}",
        String((tx % count + count) % count),
      )
        .replace("{y}", String(ty));
      let image = tiles.get(url);
      if (!image) {
        image = new Image();
        image.onload = redraw;
        image.src = url;
        tiles.set(url, image);
      }
      if (image.complete && image.naturalWidth > 0) {
        ctx.drawImage(image, (tx - left) * size, (ty - top) * size, size, size);
      }
    }
  }
}

/**
 * Draws the track, its start, the current position and a scale bar.
 * @param {HTMLCanvasElement} canvas
 * @param {LatLon[]} points oldest first; the last is the current position
 * @param {{ tileUrl?: string, colour?: string }} [options]
 */
export function drawTrack(canvas, points, options = {}) {
  const ratio = globalThis.devicePixelRatio || 1;
  const width = canvas.clientWidth || 300;
  const height = canvas.clientHeight || 200;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = "#0f1720";
  ctx.fillRect(0, 0, width, height);
  canvas.dataset.points = String(points.length);
  const current = points.at(-1);
  if (!current) {
    ctx.fillStyle = "#7b8794";
    ctx.font = "13px sans-serif";
    ctx.fillText("No GPS position yet", 12, 22);
    delete canvas.dataset.current;
    return;
  }
  const view = fitView(points, width, height);
  if (options.tileUrl) {
    drawTiles(ctx, view, width, height, options.tileUrl, () => drawTrack(canvas, points, options));
  }
  const pixels = points.map((p) => toPixel(view, width, height, p));
  ctx.strokeStyle = options.colour ?? "#38bdf8";
  ctx.lineWidth = 2;
  ctx.lineJoin = "round";
  ctx.beginPath();
  pixels.forEach((p, i) => i === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y));
  ctx.stroke();
  const start = pixels[0];
  const here = pixels.at(-1);
  if (start) dot(ctx, start, 4, "#a3e635");
  if (here) dot(ctx, here, 7, "#f43f5e");
  const bar = scaleBar(metresPerPixel(current.lat, view.zoom), width / 3);
  ctx.strokeStyle = "#e5e7eb";
  ctx.fillStyle = "#e5e7eb";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(12, height - 18);
  ctx.lineTo(12, height - 12);
  ctx.lineTo(12 + bar.pixels, height - 12);
  ctx.lineTo(12 + bar.pixels, height - 18);
  ctx.stroke();
  ctx.font = "12px sans-serif";
  ctx.fillText(bar.label, 16, height - 22);
  const position = `${current.lat.toFixed(6)}, ${current.lon.toFixed(6)}`;
  ctx.fillText(position, width - ctx.measureText(position).width - 12, height - 12);
  canvas.dataset.current = position;
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {{ x: number, y: number }} at
 * @param {number} radius
 * @param {string} colour
 */
function dot(ctx, at, radius, colour) {
  ctx.fillStyle = colour;
  ctx.strokeStyle = "#0f1720";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.arc(at.x, at.y, radius, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
}
