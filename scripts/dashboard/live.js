/**
 * Follows one device's `telemetry-live` stream for as long as the page wants it: the function
 * ends each stream after its duration (the hosted wall clock), so this reconnects with
 * `Last-Event-ID` after the retry the stream asked for, and no frame Redis still holds is lost.
 */
import { ApiError, errorText } from "./api.js";
import { SseParser } from "./sse.js";

/**
 * @param {ReturnType<typeof import("./api.js").createApi>} api
 * @param {string} deviceId
 * @param {{
 *   onFrame: (frame: Record<string, unknown>) => void,
 *   onStatus: (state: "live" | "reconnecting" | "unavailable" | "error", detail?: string) => void,
 *   onGap: (detail: string) => void,
 *   signal: AbortSignal,
 * }} handlers
 */
export async function followLive(api, deviceId, { onFrame, onStatus, onGap, signal }) {
  /** @type {string | null} */
  let lastId = null;
  let retryMs = 1000;
  while (!signal.aborted) {
    try {
      const response = await api.call("telemetry-live", { device_id: deviceId }, {
        headers: lastId ? { "last-event-id": lastId } : {},
        signal,
      });
      onStatus("live");
      if (!response.body) throw new Error("The live feed answered without a body");
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        for (const message of parser.push(read.value)) {
          if (message.id) lastId = message.id;
          if (message.retry !== null) retryMs = message.retry;
          if (message.event === "frame") onFrame(JSON.parse(message.data));
          else if (message.event === "unavailable") onStatus("unavailable", message.data);
          // Not a state: the stream goes on after it (frames were missing, not the feed).
          else if (message.event === "gap") onGap(message.data);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      // A 4xx will not get better by retrying (a revoked token, a device gone).
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        onStatus("error", `${error.code}: ${error.message}`);
        return;
      }
      onStatus("reconnecting", errorText(error));
    }
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}
