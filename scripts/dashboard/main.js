/**
 * The dashboard page: sign in with a token, list the operator's devices, and for the chosen one
 * show live charts and the track (telemetry-live), past flights (telemetry-query), hourly rollups
 * (telemetry-analytics), beside the pipeline's health (health, telemetry-analytics/monitor).
 * It talks only to the functions; the one exception is the local stack's token helper.
 */
import { ApiError, createApi, errorText } from "./api.js";
import { TimeChart } from "./charts.js";
import { DeviceList } from "./devices.js";
import { agoText, IN_PROGRESS_WITHIN_MS, liveState } from "./freshness.js";
import { followLive } from "./live.js";
import { drawTrack } from "./track.js";

const FIELDS = [
  "flight_id",
  "flight_mode",
  "armed",
  "altitude_m",
  "roll_degrees",
  "pitch_degrees",
  "yaw_degrees",
  "battery_voltage_v",
  "battery_remaining_percent",
  "motor1_pwm",
  "motor2_pwm",
  "motor3_pwm",
  "motor4_pwm",
  "gps_latitude",
  "gps_longitude",
  "gps_satellites",
].join(",");
/** Frames shown before live ones arrive: the last minute at 5 Hz. */
const SEED_FRAMES = 300;
const SEED_MINUTES = 2;
const TRACK_POINTS = 3000;
const HEALTH_EVERY_MS = 5000;
/** The device list follows creations, revocations and renames within this (at most 10 s). */
const DEVICES_EVERY_MS = 5000;
/** Devices heard from within this long get their newest frame looked up for "seen". */
const PROBE_SEEN_WITHIN_MS = 10 * 60_000;
const PROBE_AT_MOST = 20;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const settings = {
  functionsUrl: localStorage.getItem("functionsUrl") || `${location.origin}/functions/v1`,
  tileUrl: localStorage.getItem("tileUrl") || "",
};
/** @type {ReturnType<typeof createApi> | null} */
let api = null;
/** @type {AbortController | null} */
let deviceWatch = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let healthTimer;
/** @type {ReturnType<typeof setInterval> | undefined} */
let devicesTimer;
/** @type {ReturnType<typeof setInterval> | undefined} */
let clockTimer;
let probing = false;
const deviceList = new DeviceList($("devices"), (device) => selectDevice(device));

/**
 * The chosen device: the live stream's state, when its last live frame and its last gap arrived,
 * the receive time and the recorded time of its newest frame, and the flight that frame belongs
 * to (in progress while frames arrive).
 */
const view = {
  /** @type {string | null} */ id: null,
  streamState: "",
  /** @type {number | null} */ lastLiveAt: null,
  /** @type {number | null} */ lastGapAt: null,
  /** @type {number | null} */ lastFrameAt: null,
  /** @type {number | null} */ lastRecordedAt: null,
  /** @type {string | null} */ flightId: null,
  /** @type {string | null} */ loadedFlight: null,
  shownState: "",
};

// Each axis spans at least what its quantity's noise is not: metres of altitude, degrees of
// attitude, tenths of a volt, percent, tens of microseconds of PWM.
const charts = {
  altitude: new TimeChart($("chart-altitude"), [
    { key: "altitude_m", label: "altitude", colour: "#38bdf8" },
  ], { minSpan: { y: 5 } }),
  attitude: new TimeChart($("chart-attitude"), [
    { key: "roll_degrees", label: "roll", colour: "#f472b6" },
    { key: "pitch_degrees", label: "pitch", colour: "#a3e635" },
    { key: "yaw_degrees", label: "yaw", colour: "#fbbf24" },
  ], { minSpan: { y: 10 } }),
  battery: new TimeChart($("chart-battery"), [
    { key: "battery_voltage_v", label: "voltage (V)", colour: "#22d3ee" },
    { key: "battery_remaining_percent", label: "remaining (%)", colour: "#f59e0b", scale: "%" },
  ], { minSpan: { y: 0.5, "%": 5 } }),
  motors: new TimeChart(
    $("chart-motors"),
    [1, 2, 3, 4].map((n, i) => ({
      key: `motor${n}_pwm`,
      label: `motor ${n}`,
      colour: ["#f87171", "#60a5fa", "#34d399", "#c084fc"][i] ?? "#fff",
    })),
    { minSpan: { y: 50 } },
  ),
};
const flightChart = new TimeChart($("chart-flight"), [
  { key: "altitude_m", label: "altitude (m)", colour: "#38bdf8" },
  { key: "battery_remaining_percent", label: "battery (%)", colour: "#f59e0b", scale: "%" },
], { capacity: 1_000_000, height: 150, minSpan: { y: 5, "%": 5 }, minSeconds: 10 });
/** @type {{ lat: number, lon: number }[]} */
let track = [];
let trackPending = false;

/** The sign-in form; a token kept from this tab's session signs in again at once. */
function showSignIn(message = "") {
  $("signin").hidden = false;
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("who").textContent = "";
  $("signin-error").textContent = message;
  /** @type {HTMLInputElement} */ ($("functions-url")).value = settings.functionsUrl;
  /** @type {HTMLInputElement} */ ($("tile-url")).value = settings.tileUrl;
}

/** @param {string} token */
async function signIn(token) {
  $("signin-error").textContent = "";
  const candidate = createApi(settings.functionsUrl, token);
  let devices;
  try {
    // Listing the devices is the check: it needs a valid operator token.
    devices = (await candidate.json("devices")).devices;
  } catch (error) {
    sessionStorage.removeItem("token");
    showSignIn(signInError(error));
    return;
  }
  sessionStorage.setItem("token", token);
  api = candidate;
  $("signin").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = `signed in as ${tokenSubject(token)} · ${settings.functionsUrl}`;
  deviceList.update(devices);
  probeSeen(devices);
  refreshHealth();
  clearInterval(healthTimer);
  healthTimer = setInterval(refreshHealth, HEALTH_EVERY_MS);
  clearInterval(devicesTimer);
  devicesTimer = setInterval(refreshDevices, DEVICES_EVERY_MS);
  clearInterval(clockTimer);
  clockTimer = setInterval(() => showFreshness(Date.now()), 1000);
  // The most recently heard device first, so a new user sees a drone fly without a click.
  const recent = devices.filter((d) => !d.revoked_at && d.last_seen_at)
    .sort((a, b) => String(b.last_seen_at).localeCompare(String(a.last_seen_at)))[0];
  if (recent) selectDevice(recent);
}

/** @param {unknown} error */
function signInError(error) {
  if (!(error instanceof ApiError)) return `Sign-in failed: ${errorText(error)}`;
  if (error.status === 401) {
    return `Sign-in failed: the API refused this token (${error.code}: ${error.message}). ` +
      "Paste a user access token (a JWT), e.g. from `deno task jwt:mint`.";
  }
  if (error.status === 403) {
    return `Sign-in failed: this token may not list devices (${error.code}: ${error.message}).`;
  }
  return `Sign-in failed (${error.status || "no answer"}, ${error.code}): ${error.message}`;
}

/** The token's subject for the header; the page never trusts it, the functions check it. */
function tokenSubject(/** @type {string} */ token) {
  try {
    const part = token.split(".")[1] ?? "";
    const claims = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    return String(claims.sub ?? claims.role ?? "a key");
  } catch {
    return "a key";
  }
}

/** Lists the devices again: a device created, revoked or renamed elsewhere shows. */
async function refreshDevices() {
  if (!api) return;
  let devices;
  try {
    devices = (await api.json("devices")).devices;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      showError("Listing devices failed", error);
    }
    return; // a missed poll: the next one tries again
  }
  deviceList.update(devices);
  const chosen = devices.find((/** @type {any} */ d) => d.id === view.id);
  if (chosen) $("device-title").textContent = chosen.name;
  probeSeen(devices);
}

/**
 * A device's `last_seen_at` is written at most once a minute, so for the devices heard from
 * lately the page asks for the newest stored frame's receive time (one indexed read each).
 * @param {any[]} devices
 */
async function probeSeen(devices) {
  if (!api || probing) return;
  probing = true;
  const now = Date.now();
  const recent = devices.filter((d) =>
    !d.revoked_at && d.id !== view.id && d.last_seen_at &&
    now - Date.parse(d.last_seen_at) <= PROBE_SEEN_WITHIN_MS
  ).slice(0, PROBE_AT_MOST);
  try {
    await Promise.all(recent.map(async (device) => {
      const answer = await api?.json("telemetry-query", {
        device_id: device.id,
        limit: 1,
        fields: "flight_id",
      }).catch(() => null);
      const newest = answer?.data?.[0];
      if (newest?.created_at) deviceList.noteFrame(device.id, Date.parse(newest.created_at));
    }));
  } finally {
    probing = false;
  }
  deviceList.refresh(Date.now());
}

/**
 * What ages with the clock: the device list's notes, and the live pill, which says "live" only
 * while frames keep arriving.
 * @param {number} now
 */
function showFreshness(now) {
  deviceList.refresh(now);
  const state = liveState(view.streamState, view.lastLiveAt, now, view.lastGapAt);
  const pill = $("live-status");
  pill.className = `pill ${state}`;
  pill.textContent = state;
  $("last-frame").textContent = view.id === null
    ? ""
    : view.lastRecordedAt === null
    ? "no frame in the last minutes"
    : `last frame ${agoText(now - view.lastRecordedAt)}`;
  // Frames stopped: the flight that was in progress is a past flight now.
  if (view.shownState === "live" && state === "idle" && view.id) loadFlights(view.id);
  view.shownState = state;
}

/** Shows one device: recent frames first, then its live stream, flights and rollups. */
async function selectDevice(/** @type {any} */ device) {
  if (!api) return;
  deviceWatch?.abort();
  const watch = new AbortController();
  deviceWatch = watch;
  deviceList.select(device.id);
  Object.assign(view, {
    id: device.id,
    streamState: "connecting",
    lastLiveAt: null,
    lastGapAt: null,
    lastFrameAt: null,
    lastRecordedAt: null,
    flightId: null,
    loadedFlight: null,
    shownState: "",
  });
  $("device-title").textContent = device.name;
  $("device").dataset.deviceId = device.id;
  $("device").dataset.flightInProgress = "";
  $("error").textContent = "";
  $("flight-view").hidden = true;
  $("flight-summary").textContent = "";
  /** @type {HTMLSelectElement} */ ($("flights")).replaceChildren();
  showFreshness(Date.now());
  try {
    const recent = await api.json("telemetry-query", {
      device_id: device.id,
      order_by: "recorded_at",
      desc: "true",
      limit: SEED_FRAMES,
      // Only the last minutes: older frames belong to past flights, not to the live view.
      from: new Date(Date.now() - SEED_MINUTES * 60_000).toISOString(),
      fields: FIELDS,
    });
    if (watch.signal.aborted) return;
    const frames = recent.data.reverse();
    for (const chart of Object.values(charts)) chart.setFrames(frames);
    track = frames.filter(hasPosition).map(position);
    redrawTrack();
    const newest = frames.at(-1);
    if (newest) {
      showReadouts(newest);
      const receivedAt = Math.max(...frames.map((f) => Date.parse(f.created_at)));
      view.lastFrameAt = receivedAt;
      view.lastRecordedAt = Date.parse(newest.recorded_at);
      deviceList.noteFrame(device.id, receivedAt);
      // Still in progress if its frames arrived just now.
      if (Date.now() - receivedAt <= IN_PROGRESS_WITHIN_MS) noteFlight(newest.flight_id);
    }
    showFreshness(Date.now());
  } catch (error) {
    showError("Loading recent frames failed", error);
  }
  followLive(api, device.id, {
    signal: watch.signal,
    onFrame: (frame) => {
      const now = Date.now();
      view.lastLiveAt = now;
      view.lastFrameAt = now;
      view.lastRecordedAt = Math.max(view.lastRecordedAt ?? 0, Date.parse(frame.recorded_at));
      deviceList.noteFrame(device.id, now);
      if (frame.flight_id !== view.flightId) noteFlight(frame.flight_id);
      for (const chart of Object.values(charts)) chart.push(frame);
      if (hasPosition(frame)) {
        track.push(position(frame));
        if (track.length > TRACK_POINTS) track.shift();
        scheduleTrack();
      }
      showReadouts(frame);
    },
    onStatus: (state, detail) => {
      view.streamState = state;
      showFreshness(Date.now());
      if (state === "error") $("error").textContent = `Live feed stopped: ${detail}`;
    },
    onGap: () => {
      view.lastGapAt = Date.now();
      showFreshness(Date.now());
    },
  });
  loadFlights(device.id);
  loadRollups(device.id);
}

/**
 * The flight the device's newest frame belongs to: in progress, so not a past flight. When it
 * changes, the flight before has ended: list the flights again (now, and once its last frames
 * have been flushed and the analytics cache has turned over).
 * @param {unknown} flightId
 */
function noteFlight(flightId) {
  const changed = view.flightId !== null;
  view.flightId = typeof flightId === "string" ? flightId : null;
  $("device").dataset.flightInProgress = view.flightId ?? "";
  const id = view.id;
  if (!changed || !id) return;
  loadFlights(id);
  setTimeout(() => view.id === id && loadFlights(id), 12_000);
}

/** @param {any} frame */
function hasPosition(frame) {
  return typeof frame.gps_latitude === "number" && typeof frame.gps_longitude === "number";
}

/** @param {any} frame */
function position(frame) {
  return { lat: frame.gps_latitude, lon: frame.gps_longitude };
}

function scheduleTrack() {
  if (trackPending) return;
  trackPending = true;
  requestAnimationFrame(redrawTrack);
}

function redrawTrack() {
  trackPending = false;
  drawTrack(/** @type {HTMLCanvasElement} */ ($("track")), track, { tileUrl: settings.tileUrl });
}

/** @param {any} frame */
function showReadouts(frame) {
  const values = [
    ["mode", frame.flight_mode ?? "–"],
    ["armed", frame.armed === true ? "yes" : frame.armed === false ? "no" : "–"],
    ["alt", fixed(frame.altitude_m, 1, " m")],
    ["battery", fixed(frame.battery_remaining_percent, 0, " %")],
    ["sats", frame.gps_satellites ?? "–"],
  ];
  $("readouts").replaceChildren(...values.map(([name, value]) => {
    const span = document.createElement("span");
    span.innerHTML = "<b></b>";
    /** @type {HTMLElement} */ (span.firstChild).textContent = String(name);
    span.append(String(value));
    return span;
  }));
}

/**
 * Lists the device's past flights, newest first: every flight but the one in progress. The newest
 * is loaded at once, so the chart is never an empty box.
 * @param {string} deviceId
 */
async function loadFlights(deviceId) {
  const select = /** @type {HTMLSelectElement} */ ($("flights"));
  try {
    const answer = await /** @type {NonNullable<typeof api>} */ (api).json(
      "telemetry-analytics/flights",
      { device_id: deviceId, limit: 50 },
    );
    if (view.id !== deviceId) return;
    const inProgress = view.lastFrameAt !== null &&
        Date.now() - view.lastFrameAt <= IN_PROGRESS_WITHIN_MS
      ? view.flightId
      : null;
    const past = answer.flights.filter((/** @type {any} */ f) => f.flight_id !== inProgress);
    const chosen = select.value;
    select.replaceChildren();
    for (const flight of past) {
      const option = document.createElement("option");
      option.value = flight.flight_id;
      option.dataset.from = flight.started_at;
      option.dataset.to = flight.ended_at;
      option.textContent = `${time(flight.started_at)} · ${
        Math.round(flight.duration_seconds)
      } s · ${flight.frames} frames · ${flight.flight_id}`;
      select.append(option);
    }
    if (!past.length) {
      select.append(new Option("No past flights yet", ""));
      $("flight-summary").textContent = "";
      $("flight-view").hidden = true;
      view.loadedFlight = null;
      return;
    }
    if (past.some((/** @type {any} */ f) => f.flight_id === chosen)) select.value = chosen;
    if (view.loadedFlight === null) loadFlight();
  } catch (error) {
    showError("Loading flights failed", error);
  }
}

/** Loads the chosen flight through telemetry-query, streamed as NDJSON, oldest frame first. */
async function loadFlight() {
  const select = /** @type {HTMLSelectElement} */ ($("flights"));
  const option = select.selectedOptions[0];
  const deviceId = $("device").dataset.deviceId;
  if (!api || !option?.value || !deviceId) return;
  const summary = $("flight-summary");
  summary.textContent = "Loading…";
  delete summary.dataset.frames;
  view.loadedFlight = option.value;
  /** @type {any[]} */
  const frames = [];
  try {
    // The flight's own window keeps the read on the index, however old the flight is.
    const to = new Date(Date.parse(option.dataset.to ?? "") + 1000).toISOString();
    await api.ndjson("telemetry-query", {
      device_id: deviceId,
      flight_id: option.value,
      order_by: "recorded_at",
      desc: "false",
      from: option.dataset.from,
      to,
      fields: FIELDS,
    }, (row) => frames.push(row));
  } catch (error) {
    summary.textContent = "";
    showError("Loading the flight failed", error);
    return;
  }
  if (view.loadedFlight !== option.value || $("device").dataset.deviceId !== deviceId) return;
  $("flight-view").hidden = false;
  flightChart.setFrames(frames);
  drawTrack(
    /** @type {HTMLCanvasElement} */ ($("flight-track")),
    frames.filter(hasPosition).map(position),
    { tileUrl: settings.tileUrl, colour: "#f59e0b" },
  );
  const highest = Math.max(...frames.map((f) => f.altitude_m ?? -Infinity));
  summary.textContent = `${option.value}: ${frames.length} frames, ${
    frames.length ? `${time(frames[0].recorded_at)}–${time(frames.at(-1).recorded_at)}, ` : ""
  }highest ${fixed(highest, 1, " m")}`;
  summary.dataset.frames = String(frames.length);
}

async function loadRollups(/** @type {string} */ deviceId) {
  const body = /** @type {HTMLElement} */ (document.querySelector("#rollups tbody"));
  try {
    const answer = await /** @type {NonNullable<typeof api>} */ (api).json("telemetry-analytics", {
      device_id: deviceId,
      bucket: "hour",
    });
    body.replaceChildren(
      ...answer.buckets.slice(-12).reverse().map((/** @type {any} */ b) => {
        const row = document.createElement("tr");
        for (
          const cell of [
            time(b.bucket_start).slice(0, 5),
            b.frames,
            fixed(b.max_altitude_m, 1, " m"),
            fixed(b.min_battery_voltage_v, 2, " V"),
            fixed((b.distance_m ?? 0) / 1000, 2, " km"),
            fixed((b.armed_seconds ?? 0) / 60, 1, " min"),
          ]
        ) {
          row.append(Object.assign(document.createElement("td"), { textContent: String(cell) }));
        }
        return row;
      }),
    );
  } catch (error) {
    showError("Loading rollups failed", error);
  }
}

/** Health (anyone) and the monitor (operators): rate, backlog, last flush, what is degraded. */
async function refreshHealth() {
  if (!api) return;
  const [health, monitor] = await Promise.all([
    api.call("health").then((r) => r.json()).catch((error) =>
      // An unhealthy pipeline answers 503 with the same body.
      error instanceof ApiError ? { status: "unhealthy", supabase_connected: false } : null
    ),
    api.json("telemetry-analytics/monitor").then((answer) => answer.monitor).catch(() => null),
  ]);
  const pill = $("health-status");
  pill.className = `pill ${health?.status ?? "unhealthy"}`;
  pill.textContent = health?.status ?? "unreachable";
  const rate = ingestRate(monitor);
  $("ingest-rate").textContent = rate === null ? "–" : `${rate.toFixed(1)} frames/s`;
  $("backlog").textContent = monitor
    ? `${monitor.staging_backlog} frames` +
      (typeof monitor.oldest_pending_age_seconds !== "number"
        ? ""
        : `, oldest ${fixed(monitor.oldest_pending_age_seconds, 0, " s")}`)
    : "–";
  // A user's monitor covers their own devices (no flush history, which counts every tenant's
  // frames): it shows their newest frame instead; service role sees the pipeline's last flush.
  const ownDevices = monitor?.last_frame_at !== undefined;
  $("last-flush-label").textContent = ownDevices ? "Last frame" : "Last flush";
  const flush = monitor?.last_flushes?.[0];
  const sinceText = (at) => agoText(Date.now() - Date.parse(at));
  $("last-flush").textContent = ownDevices
    ? (monitor.last_frame_at ? sinceText(monitor.last_frame_at) : "none yet")
    : flush
    ? `${sinceText(flush.finished_at)}, ${flush.rows_moved} rows in ${
      Math.round(flush.duration_ms)
    } ms`
    : "none yet";
  const degraded = [];
  if (health && health.supabase_connected === false) degraded.push("database");
  if (health && health.cache_connected === false) degraded.push("cache (Redis)");
  if (health?.status === "degraded" && health.cache_connected !== false) degraded.push("flush");
  if (view.streamState === "unavailable") degraded.push("live feed");
  if (!monitor) degraded.push("monitor");
  $("degraded").textContent = degraded.length ? degraded.join(", ") : "none";
}

/**
 * Frames stored per second: over the last flushes (newest first), which follow within seconds,
 * else over the last complete minute of the monitor's per-minute counts.
 * @param {any} monitor
 * @returns {number | null}
 */
function ingestRate(monitor) {
  const flushes = monitor?.last_flushes ?? [];
  const newest = flushes[0];
  const oldest = flushes.at(-1);
  const span = newest && oldest
    ? (Date.parse(newest.finished_at) - Date.parse(oldest.finished_at)) / 1000
    : 0;
  // A flush that ended a while ago means nothing arrives now.
  if (span > 0 && Date.now() - Date.parse(newest.finished_at) < 60_000) {
    const rows = flushes.slice(0, -1).reduce((sum, f) => sum + f.rows_moved, 0);
    return rows / span;
  }
  const minutes = monitor?.frames_per_minute ?? [];
  const minute = minutes.at(-2) ?? minutes.at(-1);
  return minute ? minute.frames / 60 : null;
}

/**
 * @param {string} what
 * @param {unknown} error
 */
function showError(what, error) {
  if (error instanceof ApiError && error.status === 401) {
    showSignIn(`Signed out: the API refused the token (${error.code}: ${error.message})`);
    return;
  }
  $("error").textContent = `${what}: ${errorText(error)}`;
}

/**
 * @param {unknown} value
 * @param {number} digits
 * @param {string} unit
 */
function fixed(value, digits, unit) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) + unit : "–";
}

/** @param {string} iso */
function time(iso) {
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  settings.functionsUrl = /** @type {HTMLInputElement} */ ($("functions-url")).value.trim() ||
    `${location.origin}/functions/v1`;
  settings.tileUrl = /** @type {HTMLInputElement} */ ($("tile-url")).value.trim();
  localStorage.setItem("functionsUrl", settings.functionsUrl);
  localStorage.setItem("tileUrl", settings.tileUrl);
  signIn(/** @type {HTMLTextAreaElement} */ ($("token")).value.trim());
});
$("local-token").addEventListener("click", async () => {
  const response = await fetch("local-token").catch(() => null);
  const body = await response?.json().catch(() => null);
  if (!response?.ok || typeof body?.token !== "string") {
    $("signin-error").textContent = body?.message ??
      "No local token here: this helper exists only on the local stack's gateway";
    return;
  }
  /** @type {HTMLTextAreaElement} */ ($("token")).value = body.token;
  signIn(body.token);
});
$("sign-out").addEventListener("click", () => {
  deviceWatch?.abort();
  clearInterval(healthTimer);
  clearInterval(devicesTimer);
  clearInterval(clockTimer);
  view.id = null;
  api = null;
  sessionStorage.removeItem("token");
  showSignIn();
});
$("load-flight").addEventListener("click", loadFlight);
$("flights").addEventListener("change", loadFlight);
addEventListener("resize", scheduleTrack);

const saved = sessionStorage.getItem("token");
if (saved) signIn(saved);
else showSignIn();
