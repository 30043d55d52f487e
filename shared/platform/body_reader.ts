/**
 * Reading a request body within its caps while it arrives: the bytes are counted chunk by chunk,
 * so a body without Content-Length (chunked) is cut off at the cap, not read whole first, and a
 * declared Content-Length over the cap is refused before a byte is read.
 */
import { readWithin } from "./body_deadline.ts";
import type { AdmissionTicket } from "./admission.ts";
import { HttpError } from "./http.ts";

export interface BodyCaps {
  maxBytes: number;
  /** The whole body must arrive within this time (408 otherwise); absent: no deadline. */
  timeoutMs?: number;
  /** The request's admission ticket: it holds the bytes read so far (503 when they don't fit). */
  ticket?: AdmissionTicket;
  /** The 413 to throw over the cap; a generic `payload_too_large` by default. */
  tooLarge?: (maxBytes: number) => HttpError;
}

/** The generic 413 for a body over its byte cap. */
export function payloadTooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    "payload_too_large",
    `Body is larger than ${maxBytes} bytes`,
    { "max_bytes": maxBytes },
  );
}

/** The body's declared Content-Length, or null when none (or a malformed one) is declared. */
export function declaredLength(request: Request): number | null {
  const value = request.headers.get("content-length");
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : null;
}

/**
 * Yields the body's chunks while counting them against the caps.
 * @throws {HttpError} 413 as soon as the body passes `maxBytes` (declared or read); 408 when it
 *   arrives too slowly; 503 when the admission ticket cannot hold the bytes read
 */
export async function* readBodyCapped(
  request: Request,
  caps: BodyCaps,
): AsyncGenerator<Uint8Array> {
  const tooLarge = caps.tooLarge ?? payloadTooLarge;
  if ((declaredLength(request) ?? 0) > caps.maxBytes) throw tooLarge(caps.maxBytes);
  const body = request.body;
  if (body === null) return;
  const chunks = caps.timeoutMs === undefined ? body : readWithin(body, caps.timeoutMs);
  let bytesRead = 0;
  for await (const chunk of chunks) {
    bytesRead += chunk.length;
    if (bytesRead > caps.maxBytes) throw tooLarge(caps.maxBytes);
    caps.ticket?.hold(bytesRead, 0);
    yield chunk;
  }
}

/**
 * Reads a whole body as text within its caps (for small JSON bodies).
 * @throws {HttpError} as {@link readBodyCapped}
 */
export async function readTextCapped(request: Request, caps: BodyCaps): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of readBodyCapped(request, caps)) {
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * Reads a JSON body with a byte cap (held while it arrives, chunked bodies included) and a
 * content-type check. An empty body is `{}`.
 * @throws {HttpError} 415 for another content type, 413 over the cap, 400 for bad JSON
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new HttpError(415, "unsupported_media_type", `Content-Type must be application/json`);
  }
  const text = await readTextCapped(request, { maxBytes });
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "Body is not valid JSON");
  }
}
