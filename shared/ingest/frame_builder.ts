/**
 * Builds and validates one frame from its keys and values as sent, in a single pass: keys
 * resolve case-insensitively through the catalogue, values are coerced to their column's kind, a
 * timestamp key sets `recorded_at`, unknown keys go to `extra`. The outcome is the row for
 * `ingest_telemetry` or the line's reject with every reason.
 *
 * This runs once per frame of every request, so the hot path is plain code: one Map lookup per
 * key, an array per frame instead of Maps, and {@link isFrameRow} instead of a zod parse. zod
 * (`validateFrame`) only runs for a frame that is refused, to word its reasons.
 *
 * @module
 */
import { FIELDS, KEY_LOOKUP } from "../catalogue/catalogue.ts";
import {
  coerceFieldValue,
  coerceKvExtraValue,
  type DataSource,
  isSafeText,
  type LineError,
  MAX_ERRORS_PER_LINE,
  MAX_KEY_LENGTH,
  MAX_LINE_LENGTH,
  showValue,
  storableValue,
  type TelemetryRow,
  validateFrame,
} from "../catalogue/frame_schema.ts";
import { isFrameRow } from "./frame_checks.ts";
import { emptyRow } from "./row_template.ts";
import { formatMicros, parseTimestamp, receiveTimestamp } from "./timestamp.ts";

/** Version stamped on every row as `parser_version`. */
export const PARSER_VERSION = "2.0.0";

/** A valid frame and where it came from. */
export interface ParsedFrame {
  /** 1-based line number (element index + 1 for a JSON array). */
  readonly line: number;
  /** Whether `recorded_at` came from the device (else it is the receive time). */
  readonly timestamped: boolean;
  /** The row to send to `ingest_telemetry`. */
  readonly row: TelemetryRow;
}

/** A rejected line in the shape `record_telemetry_rejects` takes. */
export interface TelemetryReject {
  readonly "line_number": number;
  /** The line as sent, cut to MAX_LINE_LENGTH, with NUL and invalid Unicode replaced. */
  readonly "raw_text": string;
  /** All reasons of the line, joined by "; ". */
  readonly reason: string;
}

/** Outcome of one line. */
export type LineResult =
  | { readonly ok: true; readonly frame: ParsedFrame }
  | { readonly ok: false; readonly errors: readonly LineError[]; readonly reject: TelemetryReject };

/** Where a frame sits in its body, and how to read it. */
export interface FrameContext {
  readonly line: number;
  /** Position in the body, the microsecond offset of a receive timestamp. */
  readonly index: number;
  /** The line (or JSON element) as sent: the row's `raw_data`. */
  readonly raw: string;
  readonly dataSource: DataSource;
  /** Whether values are key:value text, so an unknown key's value may be read as a number. */
  readonly kv: boolean;
  /** When the request arrived: the base of receive timestamps and of the future bound. */
  readonly receivedAt: Date;
  /** Base of receive timestamps in microseconds, when the caller reserved its own run. */
  readonly receiveBaseMicros: bigint | undefined;
}

/**
 * The reject of a line: its first reasons joined, and its text made safe to store.
 *
 * @param line 1-based line number.
 * @param raw The line as sent.
 * @param errors Every reason the line is refused (at least one).
 */
export function rejectLine(line: number, raw: string, errors: readonly LineError[]): LineResult {
  const shown = errors.slice(0, MAX_ERRORS_PER_LINE);
  const more = errors.length - shown.length;
  const reason = shown.map((e) => e.reason).join("; ") + (more > 0 ? `; and ${more} more` : "");
  const rawText = raw.slice(0, MAX_LINE_LENGTH).replaceAll("\u0000", "\uFFFD").toWellFormed();
  return { ok: false, errors: shown, reject: { line_number: line, raw_text: rawText, reason } };
}

/**
 * What a lower-cased frame key sets: a catalogue column or a metadata column. `slot` numbers
 * them all (columns first, in catalogue order), so a frame keeps its values in arrays.
 */
type Target =
  | FieldTarget
  | { readonly type: "recorded_at" | "flight_id"; readonly slot: number; readonly name: string };

interface FieldTarget {
  readonly type: "field";
  readonly slot: number;
  readonly name: string;
  readonly kind: (typeof FIELDS)[number]["kind"];
  readonly sqlType: (typeof FIELDS)[number]["sqlType"];
}

const FIELD_COUNT = FIELDS.length;
const RECORDED_AT_SLOT = FIELD_COUNT;
const FLIGHT_ID_SLOT = FIELD_COUNT + 1;
const SLOT_COUNT = FIELD_COUNT + 2;
const FIELD_NAMES: readonly string[] = FIELDS.map((spec) => spec.name);
// buildFrame's scratch, allocated once at full size: made anew (and grown by push, which copies)
// per frame, they and a list of the frame's columns were about 3 KiB per 80-field frame.
/** Per slot, the index in `keys` of the key that set it, or -1 (a typed array: storing the keys
 * themselves in a plain array made V8 allocate 16 bytes a store). */
const SENT_AT = new Int32Array(SLOT_COUNT);
/** Per slot, the coerced value. */
const SLOT_VALUES = new Array<unknown>(SLOT_COUNT);
/** A row's keys: every field, then recorded_at, flight_id, raw_data, parser_version, data_source
 * and extra at most. */
const ROW_KEYS: string[] = new Array<string>(FIELD_COUNT + 6).fill("");

/** The catalogue's KEY_LOOKUP (the one list of names and aliases) with slots. */
const TARGETS: ReadonlyMap<string, Target> = (() => {
  const slots = new Map<string, number>(FIELDS.map((spec, slot) => [spec.name, slot]));
  const targets = new Map<string, Target>();
  for (const [key, resolved] of KEY_LOOKUP) {
    if (resolved.type === "field") {
      const slot = slots.get(resolved.name) ?? -1;
      targets.set(key, {
        type: "field",
        slot,
        name: resolved.name,
        kind: resolved.spec.kind,
        sqlType: resolved.spec.sqlType,
      });
    } else {
      const slot = resolved.name === "recorded_at" ? RECORDED_AT_SLOT : FLIGHT_ID_SLOT;
      targets.set(key, { type: resolved.name, slot, name: resolved.name });
    }
  }
  return targets;
})();

/** Resolves a key as `resolveKey` does; a key sent in lower case (the usual) is not copied. */
function resolve(key: string): Target | undefined {
  return TARGETS.get(key) ?? TARGETS.get(key.toLowerCase());
}

/**
 * What a key kept in `extra` may look like: a plain identifier, so that it reads the same in
 * JSON, SQL (`extra->>'key'`) and a dashboard, and a stray quote or space is caught, not stored.
 */
const EXTRA_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function keyError(key: string, line: number): LineError | undefined {
  if (key === "") return { line, reason: "Key must not be empty" };
  if (key.length > MAX_KEY_LENGTH) {
    return { line, reason: `Key ${showValue(key)} is longer than ${MAX_KEY_LENGTH} characters` };
  }
  if (!isSafeText(key)) {
    return { line, reason: `Key ${showValue(key)} contains control characters or invalid Unicode` };
  }
  // Assigning "__proto__" to an object sets its prototype instead of a key, losing the value.
  if (key === "__proto__") return { line, reason: `Key "__proto__" is not allowed` };
  return undefined;
}

function duplicate(line: number, name: string, first: string, key: string): LineError {
  return { line, key: name, reason: `Duplicate key "${name}" (sent as "${first}" and "${key}")` };
}

/**
 * Builds and validates one frame.
 *
 * @param keys Keys as sent, in order.
 * @param values The value of each key (a string for key:value lines, any JSON value for JSON).
 * @param ctx Where the frame sits and how to read it.
 * @param errors Problems already found in the line (e.g. a malformed pair); more are added.
 * @returns The frame, or the line's reject naming every problem.
 */
export function buildFrame(
  keys: readonly string[],
  values: readonly unknown[],
  ctx: FrameContext,
  errors: LineError[],
): LineResult {
  const { line } = ctx;
  // Per slot: which key set it and the coerced value. Scratch arrays shared by every call
  // (buildFrame never runs inside itself), emptied here.
  const sentAt = SENT_AT.fill(-1);
  const slotValues = SLOT_VALUES.fill(undefined);
  // A Map, so a key such as "__proto__" stays data when turned into an object below.
  let extra: Map<string, unknown> | undefined;
  // Unknown keys lower-cased, to the key as sent: duplicates differ only in case.
  let extraSentAs: Map<string, string> | undefined;
  let count = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = (keys[i] ?? "").trim();
    const value = values[i];
    // A key that resolves is a catalogue name or alias in some case: never empty, over-long or
    // unsafe, so only unknown keys need keyError.
    const target = resolve(key);
    if (target !== undefined) {
      const first = sentAt[target.slot]!;
      if (first >= 0) {
        errors.push(duplicate(line, target.name, (keys[first] ?? "").trim(), key));
        continue;
      }
      sentAt[target.slot] = i;
      if (target.type === "field") {
        // As the column stores it: a real that would underflow the cast is stored as 0.
        slotValues[target.slot] = storableValue(
          target.sqlType,
          coerceFieldValue(target.kind, value),
        );
        count++;
      } else if (target.type === "recorded_at") slotValues[target.slot] = value;
      else slotValues[target.slot] = coerceFieldValue("text", value);
      continue;
    }
    const problem = keyError(key, line);
    if (problem !== undefined) {
      errors.push(problem);
      continue;
    }
    extraSentAs ??= new Map();
    const id = key.toLowerCase();
    const first = extraSentAs.get(id);
    if (first !== undefined) {
      errors.push(duplicate(line, key, first, key));
      continue;
    }
    extraSentAs.set(id, key);
    if (!EXTRA_KEY.test(key)) {
      errors.push({
        line,
        key,
        reason: `Key ${showValue(key)} is not a known field, and a key kept in extra must be a ` +
          `plain identifier (ASCII letters, digits and _, not starting with a digit)`,
      });
      continue;
    }
    extra ??= new Map();
    extra.set(key, ctx.kv && typeof value === "string" ? coerceKvExtraValue(value) : value);
    count++;
  }
  if (count === 0 && errors.length === 0) {
    errors.push({ line, reason: "Frame has no telemetry values" });
  }

  const timestamped = sentAt[RECORDED_AT_SLOT]! >= 0;
  let recordedAt: string | undefined;
  if (timestamped) {
    const parsed = parseTimestamp("recorded_at", slotValues[RECORDED_AT_SLOT], ctx.receivedAt);
    if (parsed.ok) recordedAt = parsed.iso;
    else errors.push({ line, key: "recorded_at", reason: parsed.reason });
  }
  recordedAt ??= ctx.receiveBaseMicros === undefined
    ? receiveTimestamp(ctx.receivedAt, ctx.index)
    : formatMicros(ctx.receiveBaseMicros + BigInt(ctx.index));

  // In frameRowSchema's key order (catalogue columns in catalogue order, then metadata), as its
  // output had: the slots are walked in order, whatever order the keys came in.
  const hasFlightId = sentAt[FLIGHT_ID_SLOT]! >= 0;
  const rowKeys = ROW_KEYS;
  let keyCount = 0;
  for (let slot = 0; slot < FIELD_COUNT; slot++) {
    if (sentAt[slot]! >= 0) rowKeys[keyCount++] = FIELD_NAMES[slot]!;
  }
  rowKeys[keyCount++] = "recorded_at";
  if (hasFlightId) rowKeys[keyCount++] = "flight_id";
  rowKeys[keyCount++] = "raw_data";
  rowKeys[keyCount++] = "parser_version";
  rowKeys[keyCount++] = "data_source";
  if (extra !== undefined) rowKeys[keyCount++] = "extra";
  const candidate = emptyRow(rowKeys, keyCount);
  for (let slot = 0; slot < FIELD_COUNT; slot++) {
    if (sentAt[slot]! >= 0) candidate[FIELD_NAMES[slot]!] = slotValues[slot];
  }
  candidate["recorded_at"] = recordedAt;
  if (hasFlightId) candidate["flight_id"] = slotValues[FLIGHT_ID_SLOT];
  candidate["raw_data"] = ctx.raw;
  candidate["parser_version"] = PARSER_VERSION;
  candidate["data_source"] = ctx.dataSource;
  if (extra !== undefined) candidate["extra"] = Object.fromEntries(extra);

  if (errors.length === 0 && isFrameRow(candidate)) {
    return { ok: true, frame: { line, timestamped, row: candidate } };
  }
  const validation = validateFrame(candidate, line);
  if (!validation.ok) return rejectLine(line, ctx.raw, [...errors, ...validation.errors]);
  if (errors.length > 0) return rejectLine(line, ctx.raw, errors);
  return { ok: true, frame: { line, timestamped, row: validation.row } };
}
