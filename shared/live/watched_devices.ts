/**
 * What this isolate last learned about which devices are watched live (their watch marks, read by
 * ingest in each group's Redis round trip: live_feed.ts liveWatchKey), so a request of a device
 * no one watches skips making its frames into live entries: a device's frames are made into
 * entries unless a round trip within WATCHED_STATE_MS said it was not watched. What was stored
 * without entries while the device became watched is published as a count of unpublished frames,
 * which its viewers get as a `gap`.
 *
 * @module
 */

/** How long a round trip's answer stands in for a device's next requests. */
export const WATCHED_STATE_MS = 10_000;
/**
 * Devices remembered at most: a caller with many device keys cannot grow the isolate's memory
 * past it (the map is emptied, and every device's frames are made into entries until its next
 * round trip).
 */
const MAX_DEVICES = 10_000;

export interface WatchedDevices {
  /** Whether the device's next frames should be made into live entries. */
  wanted(deviceId: string): boolean;
  /** What a round trip read: each device's watch mark (null: absent). */
  learned(deviceIds: readonly string[], marks: readonly (string | null)[]): void;
}

export function createWatchedDevices(now: () => number = Date.now): WatchedDevices {
  const states = new Map<string, { watched: boolean; at: number }>();
  return {
    wanted(deviceId) {
      const state = states.get(deviceId);
      if (state === undefined) return true;
      if (now() - state.at > WATCHED_STATE_MS) {
        states.delete(deviceId);
        return true;
      }
      return state.watched;
    },
    learned(deviceIds, marks) {
      if (states.size + deviceIds.length > MAX_DEVICES) states.clear();
      const at = now();
      deviceIds.forEach((deviceId, i) => states.set(deviceId, { watched: marks[i] != null, at }));
    },
  };
}
