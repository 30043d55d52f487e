/**
 * The keyset cursor of telemetry-query: an opaque, URL-safe token naming the last frame of a
 * page by its sort key (order value, recorded_at, device_id), so the next page starts right
 * after it in O(limit), however deep. Frame ids are not used: staged frames have none yet.
 *
 * The cursor also records the order it was made for; using it with another order is an error
 * rather than a silently wrong page.
 *
 * @module
 */

/** Where the next page starts: the sort key of the last frame read. */
export interface CursorPosition {
  "order_by": string;
  desc: boolean;
  /** The last frame's order value (as Postgres prints it; null when the frame has none). */
  value: string | null;
  "recorded_at": string;
  "device_id": string;
}

const VERSION = 1;

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(token: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const binary = atob(token.replaceAll("-", "+").replaceAll("_", "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (char) => char.charCodeAt(0)),
    );
  } catch {
    return null;
  }
}

/** Encodes a position as the token clients pass back as `cursor`. */
export function encodeCursor(position: CursorPosition): string {
  return toBase64Url(
    JSON.stringify([
      VERSION,
      position.order_by,
      position.desc,
      position.value,
      position.recorded_at,
      position.device_id,
    ]),
  );
}

/** Decodes a `cursor` token; null when it is not one this API made. */
export function decodeCursor(token: string): CursorPosition | null {
  const text = fromBase64Url(token);
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 6 || parsed[0] !== VERSION) return null;
  const [, orderBy, desc, value, recordedAt, deviceId] = parsed;
  if (
    typeof orderBy !== "string" || typeof desc !== "boolean" ||
    (value !== null && typeof value !== "string") || typeof recordedAt !== "string" ||
    Number.isNaN(Date.parse(recordedAt)) || typeof deviceId !== "string" ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(deviceId)
  ) {
    return null;
  }
  return { order_by: orderBy, desc, value, recorded_at: recordedAt, device_id: deviceId };
}
