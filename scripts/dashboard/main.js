/**
 * The dashboard page: sign in with a token, list the operator's devices, and for the chosen one
 * show live charts and the track (telemetry-live), past flights (telemetry-query), hourly rollups
 * (telemetry-analytics), beside the pipeline's health (health, telemetry-analytics/monitor).
 * It talks only to the functions; the one exception is the local stack's token helper.
 */
import { ApiError, createApi, errorText } from "./api.js";
import { TimeChart } from "./charts.js";
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
let liveState = "";

const charts = {
  altitude: new TimeChart($("chart-altitude"), [
    { key: "altitude_m", label: "altitude", colour: "#38bdf8" },
  ]),
  attitude: new TimeChart($("chart-attitude"), [
    { key: "roll_degrees", label: "roll", colour: "#f472b6" },
    { key: "pitch_degrees", label: "pitch", colour: "#a3e635" },
    { key: "yaw_degrees", label: "yaw", colour: "#fbbf24" },
  ]),
  battery: new TimeChart($("chart-battery"), [
    { key: "battery_voltage_v", label: "voltage (V)", colour: "#22d3ee" },
    { key: "battery_remaining_percent", label: "remaining (%)", colour: "#f59e0b", scale: "%" },
  ]),
  motors: new TimeChart(
    $("chart-motors"),
    [1, 2, 3, 4].map((n, i) => ({
      key: `motor${n}_pwm`,
      label: `motor ${n}`,
      colour: ["#f87171", "#60a5fa", "#34d399", "#c084fc"][i] ?? "#fff",
    })),
  ),
};
const flightChart = new TimeChart($("chart-flight"), [
  { key: "altitude_m", label: "altitude (m)", colour: "#38bdf8" },
  { key: "battery_remaining_percent", label: "battery (%)", colour: "#f59e0b", scale: "%" },
], { capacity: 1_000_000, height: 150 });
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
  renderDevices(devices);
  refreshHealth();
  clearInterval(healthTimer);
  healthTimer = setInterval(refreshHealth, HEALTH_EVERY_MS);
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

/** @param {any[]} devices */
function renderDevices(devices) {
  const list = $("devices");
  list.replaceChildren();
  if (devices.length === 0) list.textContent = "No devices yet (deno task device:create).";
  for (const device of devices) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.deviceId = device.id;
    button.setAttribute("aria-pressed", "false");
    const seen = device.last_seen_at ? `seen ${ago(device.last_seen_at)}` : "never seen";
    button.innerHTML = "<span></span><small></small>";
    /** @type {HTMLElement} */ (button.firstChild).textContent = device.name;
    /** @type {HTMLElement} */ (button.lastChild).textContent = device.revoked_at
      ? "revoked"
      : `${device.key_prefix}… · ${seen}`;
    button.addEventListener("click", () => selectDevice(device));
    const item = document.createElement("li");
    item.append(button);
    list.append(item);
  }
}

/** Shows one device: recent frames first, then its live stream, flights and rollups. */
async function selectDevice(/** @type {any} */ device) {
  if (!api) return;
  deviceWatch?.abort();
  const watch = new AbortController();
  deviceWatch = watch;
  for (const button of document.querySelectorAll("#devices button")) {
    button.setAttribute(
      "aria-pressed",
      String(/** @type {HTMLElement} */ (button).dataset.deviceId === device.id),
    );
  }
  $("device-title").textContent = device.name;
  $("device").dataset.deviceId = device.id;
  $("error").textContent = "";
  setLive("connecting");
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
    const frames = recent.data.reverse();
    for (const chart of Object.values(charts)) chart.setFrames(frames);
    track = frames.filter(hasPosition).map(position);
    redrawTrack();
    if (frames.length) showReadouts(frames.at(-1));
  } catch (error) {
    showError("Loading recent frames failed", error);
  }
  followLive(api, device.id, {
    signal: watch.signal,
    onFrame: (frame) => {
      for (const chart of Object.values(charts)) chart.push(frame);
      if (hasPosition(frame)) {
        track.push(position(frame));
        if (track.length > TRACK_POINTS) track.shift();
        scheduleTrack();
      }
      showReadouts(frame);
    },
    onStatus: (state, detail) => {
      setLive(state);
      if (state === "error") $("error").textContent = `Live feed stopped: ${detail}`;
    },
  });
  loadFlights(device.id);
  loadRollups(device.id);
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

/** @param {string} state */
function setLive(state) {
  liveState = state;
  const pill = $("live-status");
  pill.className = `pill ${state}`;
  pill.textContent = state;
}

async function loadFlights(/** @type {string} */ deviceId) {
  const select = /** @type {HTMLSelectElement} */ ($("flights"));
  select.replaceChildren();
  try {
    const answer = await /** @type {NonNullable<typeof api>} */ (api).json(
      "telemetry-analytics/flights",
      { device_id: deviceId, limit: 50 },
    );
    for (const flight of answer.flights) {
      const option = document.createElement("option");
      option.value = flight.flight_id;
      option.dataset.from = flight.started_at;
      option.dataset.to = flight.ended_at;
      option.textContent = `${time(flight.started_at)} · ${
        Math.round(flight.duration_seconds)
      } s · ${flight.frames} frames · ${flight.flight_id}`;
      select.append(option);
    }
    if (!answer.flights.length) select.append(new Option("No flushed flights yet", ""));
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
  $("last-flush").textContent = ownDevices
    ? (monitor.last_frame_at ? ago(monitor.last_frame_at) : "none yet")
    : flush
    ? `${ago(flush.finished_at)}, ${flush.rows_moved} rows in ${Math.round(flush.duration_ms)} ms`
    : "none yet";
  const degraded = [];
  if (health && health.supabase_connected === false) degraded.push("database");
  if (health && health.cache_connected === false) degraded.push("cache (Redis)");
  if (health?.status === "degraded" && health.cache_connected !== false) degraded.push("flush");
  if (liveState === "unavailable") degraded.push("live feed");
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

/** @param {string} iso */
function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
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
  api = null;
  sessionStorage.removeItem("token");
  showSignIn();
});
$("load-flight").addEventListener("click", loadFlight);
addEventListener("resize", scheduleTrack);

const saved = sessionStorage.getItem("token");
if (saved) signIn(saved);
else showSignIn();
