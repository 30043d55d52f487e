/**
 * Time-series charts on uPlot (vendored from npm, loaded by index.html as the global `uPlot`).
 * A chart keeps the newest `capacity` frames; pushes are drawn at most once per animation frame,
 * since a frame may arrive every few milliseconds while many drones fly.
 * Each chart's element carries `data-received` (frames pushed since the device was chosen) and
 * `data-ranges` (each scale's drawn [min, max]), so the browser test can see points arrive and
 * what the axes span without reading pixels.
 *
 * Axes: each value scale spans at least its quantity's `minSpan` (a few metres of altitude), so
 * millimetre noise does not fill the chart like a dive; the time axis spans at least
 * `minSeconds`, so one lone frame does not stretch it over years.
 */

/** @typedef {{ key: string, label: string, colour: string, scale?: string }} Series */

/**
 * A value scale's range: the data's, widened to `minSpan` around its middle, plus 5% margins.
 * @param {number | null} min
 * @param {number | null} max
 * @param {number} minSpan
 * @returns {[number, number]}
 */
export function valueRange(min, max, minSpan) {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) {
    return [0, minSpan];
  }
  const span = Math.max(max - min, minSpan);
  const widen = (span - (max - min)) / 2 + span * 0.05;
  return [min - widen, max + widen];
}

/**
 * The time axis (seconds): the data's, reaching back at least `minSeconds` from the newest point.
 * @param {number | null} min
 * @param {number | null} max
 * @param {number} minSeconds
 * @param {number} nowSeconds used when there is no point yet
 * @returns {[number, number]}
 */
export function timeRange(min, max, minSeconds, nowSeconds) {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) {
    return [nowSeconds - minSeconds, nowSeconds];
  }
  return [Math.min(min, max - minSeconds), max];
}

export class TimeChart {
  /**
   * @param {HTMLElement} element
   * @param {Series[]} series
   * @param {{ capacity?: number, height?: number, minSpan: Record<string, number>,
   *   minSeconds?: number }} options minSpan: per scale ("y" unless a series names another)
   */
  constructor(element, series, options) {
    this.element = element;
    this.series = series;
    this.capacity = options.capacity ?? 300;
    this.received = 0;
    this.pending = false;
    /** @type {(number | null)[][]} */
    this.data = [[], ...series.map(() => [])];
    const scales = [...new Set(series.map((s) => s.scale ?? "y"))];
    // @ts-ignore: uPlot is the global the vendored IIFE build defines
    this.plot = new globalThis.uPlot(
      {
        width: element.clientWidth || 400,
        height: options.height ?? 170,
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        // uPlot sets its scales when it draws, after setData returns.
        hooks: {
          draw: [(/** @type {any} */ u) => {
            element.dataset.ranges = JSON.stringify(
              Object.fromEntries(
                Object.entries(u.scales).map((
                  [key, /** @type {any} */ scale],
                ) => [key, [scale.min, scale.max]]),
              ),
            );
          }],
        },
        scales: {
          x: {
            time: true,
            range: (
              /** @type {any} */ _u,
              /** @type {number | null} */ min,
              /** @type {number | null} */ max,
            ) => timeRange(min, max, options.minSeconds ?? 60, Date.now() / 1000),
          },
          ...Object.fromEntries(scales.map((scale) => [scale, {
            range: (
              /** @type {any} */ _u,
              /** @type {number | null} */ min,
              /** @type {number | null} */ max,
            ) => valueRange(min, max, options.minSpan[scale] ?? 1),
          }])),
        },
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.colour,
            width: 1.5,
            scale: s.scale ?? "y",
            spanGaps: true,
          })),
        ],
        axes: [
          { stroke: "#9aa5b1", grid: { stroke: "#1f2933" } },
          ...scales.map((scale, i) => ({
            scale,
            side: i === 0 ? 3 : 1,
            stroke: "#9aa5b1",
            grid: { stroke: i === 0 ? "#1f2933" : "transparent" },
            size: 56,
          })),
        ],
      },
      this.data,
      element,
    );
    new ResizeObserver(() =>
      this.plot.setSize({ width: element.clientWidth, height: this.plot.height })
    )
      .observe(element);
    element.dataset.received = "0";
  }

  /** Replaces every point (a flight loaded from telemetry-query). @param {Record<string, any>[]} frames */
  setFrames(frames) {
    this.data = [[], ...this.series.map(() => [])];
    this.received = 0;
    for (const frame of frames) this.#append(frame);
    this.#draw();
  }

  /** Adds the newest frame. @param {Record<string, any>} frame */
  push(frame) {
    this.#append(frame);
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => this.#draw());
  }

  /** @param {Record<string, any>} frame */
  #append(frame) {
    const time = Date.parse(frame.recorded_at) / 1000;
    if (!Number.isFinite(time)) return;
    this.data[0]?.push(time);
    this.series.forEach((s, i) => this.data[i + 1]?.push(numberOrNull(frame[s.key])));
    if ((this.data[0]?.length ?? 0) > this.capacity) {
      for (const column of this.data) column.shift();
    }
    this.received++;
  }

  #draw() {
    this.pending = false;
    this.plot.setData(this.data);
    this.element.dataset.received = String(this.received);
  }
}

/**
 * @param {unknown} value
 * @returns {number | null}
 */
function numberOrNull(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
