/**
 * How recent a device's data is, in words, and whether it is live: pure functions of times in
 * milliseconds, so the page and its tests agree on them.
 *
 * A device's `last_seen_at` (from the `devices` function) is written at most once a minute, when
 * its key is looked up again, so it can be two minutes old while the device sends every 200 ms.
 * The page therefore also counts the newest frame it knows of (from the live feed, or the newest
 * stored frame's receive time) and shows whichever is newer.
 */

/** A device is live while its frames keep arriving: the last one at most this long ago. */
export const LIVE_WITHIN_MS = 10_000;

/** A flight whose newest frame arrived at most this long ago is in progress (as "live"). */
export const IN_PROGRESS_WITHIN_MS = LIVE_WITHIN_MS;

/**
 * @param {number} ms a duration in milliseconds (negative counts as 0)
 * @returns {string} e.g. "4 s ago", "3 min ago", "5 h ago", "2 d ago"
 */
export function agoText(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} d ago`;
}

/**
 * The device list's note: revoked, never seen, or when it was last heard from.
 * @param {{ revoked_at?: string | null, last_seen_at?: string | null }} device
 * @param {number | undefined} lastFrameMs receive time of the newest frame the page knows of
 * @param {number} nowMs
 */
export function seenText(device, lastFrameMs, nowMs) {
  if (device.revoked_at) return "revoked";
  const seen = device.last_seen_at ? Date.parse(device.last_seen_at) : NaN;
  const newest = Math.max(
    Number.isFinite(seen) ? seen : -Infinity,
    lastFrameMs ?? -Infinity,
  );
  return newest === -Infinity ? "never seen" : `seen ${agoText(nowMs - newest)}`;
}

/**
 * How long the pill says "gap" after the stream told of frames it does not hold. The stream goes
 * on after a gap: once a state, it stayed "gap" while frames came, until the stream reconnected
 * (up to its 150 s), and a viewer joining a streaming device is often told of one at once (the
 * frames stored as it came, before its watch reached ingest).
 */
export const GAP_SHOWN_MS = 5_000;

/**
 * What the live pill says: "gap" for GAP_SHOWN_MS after a gap, then "live" only while frames
 * arrive; "idle" when the stream is open but nothing came for LIVE_WITHIN_MS; otherwise the
 * stream's own state (connecting, reconnecting, unavailable, error).
 * @param {string} streamState
 * @param {number | null} lastLiveFrameMs when the last frame came through the stream
 * @param {number} nowMs
 * @param {number | null} [lastGapMs] when the stream last told of a gap
 */
export function liveState(streamState, lastLiveFrameMs, nowMs, lastGapMs = null) {
  if (streamState !== "live") return streamState;
  if (lastGapMs !== null && nowMs - lastGapMs <= GAP_SHOWN_MS) return "gap";
  return lastLiveFrameMs !== null && nowMs - lastLiveFrameMs <= LIVE_WITHIN_MS ? "live" : "idle";
}
