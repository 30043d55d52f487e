/**
 * The telemetry parser: turns a request body into validated rows for `ingest_frames` and
 * per-line errors, in one pass. One bad line never loses the good lines.
 *
 * Body formats, told apart by the first non-blank line ({@link detectBodyFormat}):
 * - `key:value,key:value` lines (`=` also separates; spaces, CRLF, empty tokens and a trailing
 *   comma are tolerated; one pair of surrounding quotes around a value is removed),
 * - NDJSON: one JSON object per line,
 * - a JSON document: one object (possibly pretty-printed) or an array of objects.
 *
 * Keys resolve case-insensitively through the catalogue's aliases; a timestamp key (ts, time,
 * timestamp, recorded_at) sets `recorded_at`; unknown keys go to `extra`, and must be plain
 * identifiers (letters, digits and _, not starting with a digit), else the line is rejected.
 *
 * @module
 */
import {
  buildFrame,
  type FrameContext,
  type LineResult,
  type ParsedFrame,
  PARSER_VERSION,
  rejectLine as reject,
  type TelemetryReject,
} from "./frame_builder.ts";
import { resolveKey } from "../catalogue/catalogue.ts";
import {
  countTopLevelKeys,
  findDuplicateKey,
  isCompleteJsonLine,
  splitJsonArray,
} from "./json_text.ts";
import {
  type DataSource,
  type LineError,
  MAX_LINE_LENGTH,
  showValue,
  type TelemetryRow,
} from "../catalogue/frame_schema.ts";

export type { DataSource, LineError, LineResult, ParsedFrame, TelemetryReject, TelemetryRow };
export { PARSER_VERSION };

/** How a body is framed: key:value lines, NDJSON lines, or one JSON document. */
export type BodyFormat = "kv" | "ndjson" | "json";

/** Options for parsing a body. */
export interface ParseOptions {
  /** When the request arrived: the base of receive timestamps and of the future bound. */
  readonly receivedAt: Date;
  /**
   * Base of receive timestamps in microseconds since the epoch, when the caller reserves its own
   * run of microseconds (e.g. so two requests of one device in the same millisecond never share
   * one); defaults to `receivedAt` in microseconds. Frame `i` gets base + i.
   */
  readonly receiveBaseMicros?: bigint;
  /**
   * The most lines (frames plus rejects; array elements of a JSON document) a body may hold:
   * the parser throws {@link TooManyLinesError} at the line after it, while it parses, so an
   * over-long body never turns whole into frames or reject objects. Unset: no cap.
   */
  readonly maxLines?: number;
}

/** A body has more lines (or JSON array elements) than {@link ParseOptions.maxLines}. */
export class TooManyLinesError extends RangeError {
  override readonly name = "TooManyLinesError";
  constructor(readonly maxLines: number) {
    super(`Body has more than ${maxLines} lines`);
  }
}

/** Options for parsing one line on its own. */
export interface LineOptions extends ParseOptions {
  /** Line framing of the body, from {@link detectBodyFormat}. */
  readonly format: "kv" | "ndjson";
  /** Label for `data_source`; defaults to the format. */
  readonly dataSource?: DataSource;
}

/** Frames, errors and rejects of a body (or of the part of a stream read so far). */
export interface ParseResult {
  /** Detected framing, or null while no non-blank line has been seen. */
  readonly format: BodyFormat | null;
  readonly frames: ParsedFrame[];
  readonly errors: LineError[];
  readonly rejects: TelemetryReject[];
}

// A NUL, or a UTF-16 surrogate without its pair.
const UNSTORABLE_CHAR =
  // deno-lint-ignore no-control-regex -- matching NUL is the point
  /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The key whose value holds position `at` of a line, so a reject names the field: in key:value
 * text the key of the pair there, in JSON the last key before it (null when there is none).
 */
function keyAt(raw: string, at: number, kv: boolean): string | null {
  const before = raw.slice(0, at);
  if (kv) {
    const pair = before.slice(before.lastIndexOf(",") + 1);
    const separator = pair.search(/[:=]/);
    return separator < 0 ? null : pair.slice(0, separator).trim();
  }
  const keys = [...before.matchAll(/"((?:[^"\\]|\\.)*)"\s*:/g)];
  return keys.at(-1)?.[1] ?? null;
}

function checkRaw(raw: string, line: number, what: string): LineError | undefined {
  if (raw.length > MAX_LINE_LENGTH) {
    return { line, reason: `${what} is longer than ${MAX_LINE_LENGTH} characters` };
  }
  const bad = UNSTORABLE_CHAR.exec(raw);
  if (bad !== null) {
    // Postgres text and jsonb cannot hold either, and raw_data keeps the line as sent.
    const sent = keyAt(raw, bad.index, what === "Line");
    const key = sent === null ? undefined : resolveKey(sent)?.name ?? sent;
    const where = key === undefined ? "" : ` in the value of ${showValue(key)}`;
    const reason = `${what} contains a NUL character or invalid Unicode${where}`;
    return key === undefined ? { line, reason } : { line, key, reason };
  }
  return undefined;
}

function unquote(value: string): string {
  const first = value.charAt(0);
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first)) {
    return value.slice(1, -1);
  }
  return value;
}

/** The keys and values of a key:value line, in parallel (as {@link buildFrame} takes them). */
interface KvPairs {
  readonly keys: string[];
  readonly values: string[];
}

function kvPairs(raw: string, line: number, errors: LineError[]): KvPairs {
  const pairs: KvPairs = { keys: [], values: [] };
  for (const part of raw.split(",")) {
    const token = part.trim();
    if (token === "") continue;
    const colon = token.indexOf(":");
    const equals = token.indexOf("=");
    const at = colon < 0 ? equals : equals < 0 ? colon : Math.min(colon, equals);
    if (at < 0) {
      errors.push({ line, reason: `Expected key:value, got ${showValue(token)}` });
      continue;
    }
    pairs.keys.push(token.slice(0, at));
    pairs.values.push(unquote(token.slice(at + 1).trim()));
  }
  return pairs;
}

function frameContext(
  line: number,
  raw: string,
  dataSource: DataSource,
  kv: boolean,
  options: ParseOptions,
  index = line - 1,
): FrameContext {
  return {
    line,
    index,
    raw,
    dataSource,
    kv,
    receivedAt: options.receivedAt,
    receiveBaseMicros: options.receiveBaseMicros,
  };
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** Parses the JSON text of one object (an NDJSON line, an array element or a whole document). */
function parseJsonFrame(
  raw: string,
  line: number,
  index: number,
  dataSource: DataSource,
  options: ParseOptions,
): LineResult {
  const rawProblem = checkRaw(raw, line, "JSON object");
  if (rawProblem !== undefined) return reject(line, raw, [rawProblem]);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error: unknown) {
    const detail = error instanceof Error ? `: ${error.message}` : "";
    return reject(line, raw, [{ line, reason: `Invalid JSON${detail}` }]);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return reject(line, raw, [{
      line,
      reason: `Expected a JSON object, got ${describeJson(value)}`,
    }]);
  }
  const keys = Object.keys(value);
  // JSON.parse keeps the last of repeated keys: the text holds more keys than the object then.
  // Counting them is a cheap scan; finding which one repeats is left to that rare case.
  const duplicate = countTopLevelKeys(raw) === keys.length ? undefined : findDuplicateKey(raw);
  const errors: LineError[] = duplicate === undefined ? [] : [{
    line,
    key: resolveKey(duplicate)?.name ?? duplicate,
    reason: `Duplicate key ${showValue(duplicate)} in the JSON object`,
  }];
  const ctx = frameContext(line, raw, dataSource, false, options, index);
  return buildFrame(keys, Object.values(value), ctx, errors);
}

/**
 * Tells the framing of a body from its first non-blank line: `[` starts a JSON array document;
 * `{` starts NDJSON when that line holds one complete object, else a (pretty-printed) JSON
 * document; anything else is key:value lines.
 *
 * @param firstLine The first non-blank line (or the start of it, for `[`).
 * @returns The format, or null for a blank line.
 */
export function detectBodyFormat(firstLine: string): BodyFormat | null {
  const text = firstLine.trimStart();
  if (text === "") return null;
  if (text.startsWith("[")) return "json";
  if (text.startsWith("{")) {
    return text.length > MAX_LINE_LENGTH || isCompleteJsonLine(text) ? "ndjson" : "json";
  }
  return "kv";
}

/**
 * Parses and validates one line of a key:value or NDJSON body, for handlers reading a stream.
 * Frames without a timestamp get `receivedAt` plus `lineNumber - 1` microseconds.
 *
 * @param line The line, with or without its trailing CR.
 * @param lineNumber 1-based line number in the body (blank lines count).
 * @param options Receive time and framing.
 * @returns The frame or the errors, or null for a blank line.
 */
export function parseLine(
  line: string,
  lineNumber: number,
  options: LineOptions,
): LineResult | null {
  const raw = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (raw.trim() === "") return null;
  const dataSource = options.dataSource ?? options.format;
  if (options.format === "ndjson") {
    return parseJsonFrame(raw.trim(), lineNumber, lineNumber - 1, dataSource, options);
  }
  const rawProblem = checkRaw(raw, lineNumber, "Line");
  if (rawProblem !== undefined) return reject(lineNumber, raw, [rawProblem]);
  const errors: LineError[] = [];
  const pairs = kvPairs(raw, lineNumber, errors);
  const ctx = frameContext(lineNumber, raw, dataSource, true, options);
  return buildFrame(pairs.keys, pairs.values, ctx, errors);
}

function emptyResult(format: BodyFormat | null): ParseResult {
  return { format, frames: [], errors: [], rejects: [] };
}

function add(result: ParseResult, outcome: LineResult | null): void {
  if (outcome === null) return;
  if (outcome.ok) result.frames.push(outcome.frame);
  else {
    result.errors.push(...outcome.errors);
    result.rejects.push(outcome.reject);
  }
}

/**
 * Parses a whole JSON document: one object (line 1) or an array of objects (element index + 1
 * as the line). Malformed elements are rejected one by one; the others are kept.
 *
 * @param text The body, starting (after whitespace) with `{` or `[`.
 * @param options Receive time and line cap.
 * @throws {TooManyLinesError} for an array with more elements than `options.maxLines`
 */
export function parseJsonDocument(text: string, options: ParseOptions): ParseResult {
  const result = emptyResult("json");
  const body = text.trim();
  if (!body.startsWith("[")) {
    add(result, parseJsonFrame(body, 1, 0, "json", options));
    return result;
  }
  const maxLines = options.maxLines ?? Infinity;
  const split = splitJsonArray(body, maxLines);
  // Refused before any element is parsed: the spans are all this cost.
  if (split.tooMany) throw new TooManyLinesError(maxLines);
  split.elements.forEach((span, index) => {
    const raw = body.slice(span.start, span.end);
    if (raw === "") {
      add(result, reject(index + 1, raw, [{ line: index + 1, reason: "Array element is empty" }]));
    } else add(result, parseJsonFrame(raw, index + 1, index, "json", options));
  });
  if (split.problem !== undefined) {
    const line = split.elements.length + 1;
    add(result, reject(line, "", [{ line, reason: split.problem }]));
  }
  return result;
}

/** Incremental parser for a body read as a stream of decoded text chunks. */
export interface StreamParser {
  /** Feeds a chunk; returns what the chunk completed (lines are emitted as they end). */
  push(chunk: string): ParseResult;
  /** Ends the body; returns the rest (the last line, or the whole JSON document). */
  end(): ParseResult;
}

/**
 * Creates a stream parser. Lines are parsed as soon as they end, so memory stays bounded for
 * key:value and NDJSON bodies (an over-long line is cut, not buffered). A JSON document is
 * buffered whole until {@link StreamParser.end}: the caller must cap the body size.
 * A body holding a single one-line JSON object is labelled `data_source: "json"`, so its first
 * NDJSON line is held back until a second non-blank line shows the body is NDJSON.
 *
 * @param options Receive time and line cap.
 * @throws {TooManyLinesError} from push or end, at the line after `options.maxLines`
 */
export function createStreamParser(options: ParseOptions): StreamParser {
  let format: BodyFormat | null = null;
  let partial = "";
  let lineNumber = 0;
  let started = false;
  let jsonLines = 0;
  let heldLine: { readonly text: string; readonly number: number } | undefined;
  const docChunks: string[] = [];
  const maxLines = options.maxLines ?? Infinity;
  let lines = 0;
  // Every parsed line passes here, so the cap holds inside one pushed chunk too.
  const addCounted = (result: ParseResult, outcome: LineResult | null): void => {
    if (outcome === null) return;
    if (++lines > maxLines) throw new TooManyLinesError(maxLines);
    add(result, outcome);
  };
  // Built once, not per line.
  const kvOptions: LineOptions = { ...options, format: "kv" };
  const ndjsonOptions: LineOptions = { ...options, format: "ndjson" };

  const parseHeld = (result: ParseResult, dataSource: DataSource): void => {
    if (heldLine === undefined) return;
    const held = heldLine;
    heldLine = undefined;
    addCounted(
      result,
      parseLine(held.text, held.number, { ...options, format: "ndjson", dataSource }),
    );
  };

  const completeLine = (result: ParseResult): void => {
    const text = partial;
    partial = "";
    lineNumber++;
    if (format === null) {
      format = detectBodyFormat(text);
      if (format === "json") {
        docChunks.push(text, "\n");
        return;
      }
    }
    if (format === "kv") addCounted(result, parseLine(text, lineNumber, kvOptions));
    if (format !== "ndjson" || text.trim() === "") return;
    jsonLines++;
    if (jsonLines === 1) heldLine = { text, number: lineNumber };
    else {
      parseHeld(result, "ndjson");
      addCounted(result, parseLine(text, lineNumber, ndjsonOptions));
    }
  };

  const push = (input: string): ParseResult => {
    let chunk = input;
    if (!started && chunk !== "") {
      started = true;
      if (chunk.startsWith("\uFEFF")) chunk = chunk.slice(1);
    }
    const result = emptyResult(format);
    let pos = 0;
    while (pos < chunk.length) {
      if (format === "json") {
        docChunks.push(chunk.slice(pos));
        break;
      }
      const newline = chunk.indexOf("\n", pos);
      const piece = newline < 0 ? chunk.slice(pos) : chunk.slice(pos, newline);
      if (format === null && (partial + piece).trimStart().startsWith("[")) {
        // A JSON array is one document, often on a single long line: buffer all of it.
        format = "json";
        docChunks.push(partial, chunk.slice(pos));
        partial = "";
        break;
      }
      // Keep one character beyond the cap so parseLine still sees the line as too long.
      if (partial.length <= MAX_LINE_LENGTH) {
        partial += piece.slice(0, MAX_LINE_LENGTH + 1 - partial.length);
      }
      if (newline < 0) break;
      completeLine(result);
      pos = newline + 1;
    }
    return { ...result, format };
  };

  const end = (): ParseResult => {
    const result = emptyResult(format);
    if (format === "json") {
      const doc = parseJsonDocument(docChunks.join(""), options);
      docChunks.length = 0;
      return doc;
    }
    if (partial !== "") completeLine(result);
    // A last line without a newline may have been the start of a pretty-printed document.
    if (docChunks.length > 0) return parseJsonDocument(docChunks.join(""), options);
    parseHeld(result, "json");
    return { ...result, format };
  };

  return { push, end };
}

/**
 * Parses and validates a whole body: frames and errors per line, in order.
 *
 * @param text The body as text.
 * @param options Receive time: frames without a timestamp get it plus their 0-based line (or
 *   element) index in microseconds, so no two collapse under the `(device_id, recorded_at)` key.
 */
export function parseTelemetry(text: string, options: ParseOptions): ParseResult {
  const parser = createStreamParser(options);
  const first = parser.push(text);
  const rest = parser.end();
  return {
    format: rest.format,
    frames: [...first.frames, ...rest.frames],
    errors: [...first.errors, ...rest.errors],
    rejects: [...first.rejects, ...rest.rejects],
  };
}
