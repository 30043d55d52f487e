/**
 * Reads a telemetry request body as a stream and parses it as it arrives, within the byte and
 * line limits. Key:value and NDJSON bodies are parsed line by line as chunks come in; a JSON
 * document is parsed when complete (its size is capped by the byte limit).
 */
import type { AdmissionTicket } from "../platform/admission.ts";
import { readBodyCapped } from "../platform/body_reader.ts";
import { HttpError } from "../platform/http.ts";
import {
  createStreamParser,
  type ParsedFrame,
  type ParseResult,
  TooManyLinesError,
} from "./parser.ts";

/** Content types a device may send; anything else is answered 415. */
export const TELEMETRY_CONTENT_TYPES = [
  "text/plain",
  "application/json",
  "application/x-ndjson",
  "application/ndjson",
  "application/octet-stream",
] as const;

export interface BodyLimits {
  maxBytes: number;
  maxLines: number;
  /** The whole body must arrive within this time (408 otherwise); absent: no deadline. */
  timeoutMs?: number;
  /** The request's admission ticket: holds the bytes read and the frames parsed (503 if full). */
  ticket?: AdmissionTicket;
}

/**
 * Checks the Content-Type. A missing one is read as text/plain, since the simplest devices send
 * none.
 * @throws {HttpError} 415 naming the accepted types
 */
export function checkTelemetryContentType(request: Request): string {
  const type = (request.headers.get("content-type") ?? "text/plain").split(";")[0]?.trim()
    .toLowerCase() ?? "";
  if (!(TELEMETRY_CONTENT_TYPES as readonly string[]).includes(type)) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      `Content-Type "${type}" is not accepted; send one of ${TELEMETRY_CONTENT_TYPES.join(", ")}`,
    );
  }
  return type;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    "payload_too_large",
    `Body is larger than ${maxBytes} bytes; split it into several requests`,
    { "max_bytes": maxBytes },
  );
}

function tooManyLines(maxLines: number): HttpError {
  return new HttpError(
    413,
    "too_many_lines",
    `Body has more than ${maxLines} lines; split it into several requests`,
    { "max_lines": maxLines },
  );
}

/** `{"data": "<text>"}`, and nothing else, is the data envelope. */
const DATA_ENVELOPE = /^\s*\{\s*"data"\s*:\s*"/;

/**
 * A JSON body `{"data": "<text>"}` carries its telemetry as text (the shape of a form-style
 * client); it is parsed as that text. Any other JSON is telemetry itself.
 */
function unwrapDataEnvelope(text: string): string {
  // Only a body that starts as the envelope is parsed whole: JSON.parse of any other document
  // (an array of millions of tiny elements) would build all of it before the line cap applies.
  if (!DATA_ENVELOPE.test(text.slice(0, 64))) return text;
  try {
    const value: unknown = JSON.parse(text);
    if (
      typeof value === "object" && value !== null && !Array.isArray(value) &&
      Object.keys(value).length === 1 && "data" in value && typeof value.data === "string"
    ) {
      return value.data;
    }
  } catch {
    // not JSON as a whole: the parser reports where it is wrong
  }
  return text;
}

/**
 * The declared type decides the format: a body sent as application/json must be a JSON object or
 * an array (NDJSON lines of objects pass too). A bare string or number would otherwise be read as
 * key:value text, with its quote characters in the keys.
 * @throws {HttpError} 400 saying what the body is instead
 */
export function checkJsonBodyShape(text: string): void {
  const start = text.replace(/^\uFEFF/, "").trimStart();
  if (start === "" || start.startsWith("{") || start.startsWith("[")) return;
  let found = "text that is not JSON";
  try {
    const value: unknown = JSON.parse(start);
    found = value === null ? "null" : `a JSON ${typeof value}`;
  } catch {
    // not JSON at all: said as such
  }
  throw new HttpError(
    400,
    "invalid_json_body",
    `Body is sent as application/json but is ${found}; send a JSON object or an array of ` +
      `objects, or send key:value lines as text/plain`,
  );
}

/**
 * Reads and parses the body, holding every cap while it arrives: bytes as they are read (a
 * declared Content-Length over the cap before any), lines as they are parsed (a JSON array's
 * elements before any is parsed), and the admission ticket's bytes and frames.
 * With `takeFrames`, the valid frames are handed to it as each part of the body is parsed and
 * the result's `frames` stays empty: the caller encodes them and lets the rows go while the rest
 * of the body arrives.
 * @throws {HttpError} 413 over the byte or line limit; 408 when the body is too slow; 400 for
 *   application/json that is not an object or array; 503 when the ticket cannot hold the body
 */
export async function readTelemetryBody(
  request: Request,
  contentType: string,
  limits: BodyLimits,
  receivedAt: Date,
  takeFrames?: (frames: ParsedFrame[]) => void,
): Promise<ParseResult & { bytes: number }> {
  const parser = createStreamParser({ receivedAt, maxLines: limits.maxLines });
  const result: ParseResult = { format: null, frames: [], errors: [], rejects: [] };
  let format: ParseResult["format"] = null;
  let lines = 0;
  const merge = (part: ParseResult) => {
    if (part.format !== null) format = part.format;
    lines += part.frames.length + part.rejects.length;
    if (takeFrames) takeFrames(part.frames);
    else result.frames.push(...part.frames);
    result.errors.push(...part.errors);
    result.rejects.push(...part.rejects);
  };
  const caps = { ...limits, tooLarge };
  const decoder = new TextDecoder();
  let bytesRead = 0;
  try {
    if (contentType === "application/json") {
      // A JSON document is parsed whole anyway; read it (capped) to look for the data envelope.
      let text = "";
      for await (const chunk of readBodyCapped(request, caps)) {
        bytesRead += chunk.length;
        text += decoder.decode(chunk, { stream: true });
      }
      text += decoder.decode();
      checkJsonBodyShape(text);
      merge(parser.push(unwrapDataEnvelope(text)));
    } else {
      for await (const chunk of readBodyCapped(request, caps)) {
        bytesRead += chunk.length;
        merge(parser.push(decoder.decode(chunk, { stream: true })));
        limits.ticket?.hold(bytesRead, lines);
      }
      merge(parser.push(decoder.decode()));
    }
    merge(parser.end());
  } catch (error) {
    if (error instanceof TooManyLinesError) throw tooManyLines(error.maxLines);
    throw error;
  }
  limits.ticket?.hold(bytesRead, lines);
  return { ...result, format, bytes: bytesRead };
}
