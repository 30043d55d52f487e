/**
 * Reads a telemetry request body as a stream and parses it as it arrives, within the byte and
 * line limits. Key:value and NDJSON bodies are parsed line by line as chunks come in; a JSON
 * document is parsed when complete (its size is capped by the byte limit).
 */
import { readWithin } from "../platform/body_deadline.ts";
import { HttpError } from "../platform/http.ts";
import { createStreamParser, type ParsedFrame, type ParseResult } from "./parser.ts";

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

function tooLarge(limits: BodyLimits): HttpError {
  return new HttpError(
    413,
    "payload_too_large",
    `Body is larger than ${limits.maxBytes} bytes; split it into several requests`,
  );
}

/**
 * A JSON body `{"data": "<text>"}` carries its telemetry as text (the shape of a form-style
 * client); it is parsed as that text. Any other JSON is telemetry itself.
 */
function unwrapDataEnvelope(text: string): string {
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
 * Reads and parses the body. With `takeFrames`, the valid frames are handed to it as each part
 * of the body is parsed, and the result's `frames` stays empty: the
 * caller can encode them and let the rows go while the rest of the body arrives.
 * @throws {HttpError} 413 over the byte or line limit; 408 when the body is too slow; 400 for
 *   application/json that is not an object or array
 */
export async function readTelemetryBody(
  request: Request,
  contentType: string,
  limits: BodyLimits,
  receivedAt: Date,
  takeFrames?: (frames: ParsedFrame[]) => void,
): Promise<ParseResult & { bytes: number }> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limits.maxBytes) throw tooLarge(limits);
  const parser = createStreamParser({ receivedAt });
  let result: ParseResult = { format: null, frames: [], errors: [], rejects: [] };
  let lines = 0;
  const merge = (part: ParseResult) => {
    if (part.format !== null) result = { ...result, format: part.format };
    lines += part.frames.length + part.rejects.length;
    if (takeFrames) takeFrames(part.frames);
    else result.frames.push(...part.frames);
    result.errors.push(...part.errors);
    result.rejects.push(...part.rejects);
    if (lines > limits.maxLines) {
      throw new HttpError(
        413,
        "too_many_lines",
        `Body has more than ${limits.maxLines} lines; split it into several requests`,
      );
    }
  };

  // Chunks are counted as they arrive, so a body without Content-Length is cut off at the cap
  // instead of being read whole first.
  let bytesRead = 0;
  const decoder = new TextDecoder();
  const chunks = async function* (): AsyncGenerator<string> {
    const body = request.body ?? new ReadableStream<Uint8Array>();
    const timed = limits.timeoutMs === undefined ? body : readWithin(body, limits.timeoutMs);
    for await (const chunk of timed) {
      bytesRead += chunk.length;
      if (bytesRead > limits.maxBytes) throw tooLarge(limits);
      yield decoder.decode(chunk, { stream: true });
    }
    yield decoder.decode();
  };

  if (contentType === "application/json") {
    // A JSON document is parsed whole anyway; read it (capped) to look for the data envelope.
    let text = "";
    for await (const piece of chunks()) text += piece;
    checkJsonBodyShape(text);
    merge(parser.push(unwrapDataEnvelope(text)));
  } else {
    for await (const piece of chunks()) merge(parser.push(piece));
  }
  merge(parser.end());
  return { ...result, bytes: bytesRead };
}
