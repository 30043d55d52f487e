/**
 * Validation of parsed telemetry frames with zod, built from the field catalogue.
 *
 * The parser turns each line into a candidate row (canonical keys, values coerced with
 * {@link coerceFieldValue}) and calls {@link validateFrame} once; zod decides what is valid and
 * {@link validateFrame} turns its issues into sentence-case reasons naming the key and the value.
 *
 * @module
 */
import { z } from "zod";
import {
  type CatalogueField,
  FIELD_BY_NAME,
  type FieldKind,
  FIELDS,
  type SqlType,
} from "./catalogue.ts";

/** Longest accepted line (or JSON element) in characters; longer ones are rejected whole. */
export const MAX_LINE_LENGTH = 4096;
/** Longest accepted key in characters. */
export const MAX_KEY_LENGTH = 64;
/** Longest accepted text value of an unknown key (or JSON text of a nested value), in characters. */
export const MAX_VALUE_LENGTH = 256;
/** Most unknown keys one frame may carry in `extra`. */
export const MAX_EXTRA_KEYS = 32;
/** Longest accepted `flight_id` in characters (the column's check constraint). */
export const MAX_FLIGHT_ID_LENGTH = 64;
/** Most errors reported for one line; the rest are summarised in the reject reason. */
export const MAX_ERRORS_PER_LINE = 10;

/** Where a frame came from: `key:value` text, a JSON object or array, or NDJSON lines. */
export const DATA_SOURCES = ["kv", "json", "ndjson"] as const;
/** Format a frame came from. */
export type DataSource = (typeof DATA_SOURCES)[number];

/** A strict decimal number: optional sign, digits, optional fraction and exponent. No hex, no Infinity. */
export const STRICT_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

// C0 controls and DEL: NUL is refused by Postgres text and jsonb, and the rest are never
// meaningful in a key, a mode name or a flight id.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const TRUE_WORDS = new Set(["1", "true", "yes"]);
const FALSE_WORDS = new Set(["0", "false", "no"]);
/** A `recorded_at` as the parser writes it: UTC with six fractional digits. */
export const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Whether a string can be stored in Postgres text/jsonb and shown safely: no controls, well-formed. */
export function isSafeText(text: string): boolean {
  return !CONTROL_CHARS.test(text) && text.isWellFormed();
}

const safeText = (max: number) =>
  z.string().min(1).max(max).refine(isSafeText, { message: "unsafe text" });

type KindSchema<K extends FieldKind> = K extends "boolean" ? z.ZodBoolean
  : K extends "text" ? z.ZodString
  : z.ZodNumber;

function fieldSchema(spec: CatalogueField): z.ZodBoolean | z.ZodString | z.ZodNumber {
  switch (spec.kind) {
    case "boolean":
      return z.boolean();
    case "text":
      return safeText(spec.maxLength);
    case "integer":
      return z.number().int().min(spec.min).max(spec.max);
    case "number":
      return z.number().min(spec.min).max(spec.max);
  }
}

type FieldShape = {
  [F in CatalogueField as F["name"]]: z.ZodOptional<KindSchema<F["kind"]>>;
};

// Object.fromEntries cannot keep per-key types, so the shape built from FIELDS is asserted to be
// the mapped FieldShape derived from the same FIELDS; frame_test.ts checks the keys match.
const fieldShape = Object.fromEntries(
  FIELDS.map((spec) => [spec.name, fieldSchema(spec).optional()]),
) as FieldShape;

/**
 * Whether a nested value kept in `extra` (an object or array) can be stored as sent: small, and
 * with nothing jsonb refuses or code copying it would lose.
 */
export function isSafeNestedJson(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const json = JSON.stringify(value);
  // JSON.stringify escapes lone surrogates as \udxxx, which jsonb refuses, as it does \u0000;
  // "__proto__" is refused here as at the top level, since code copying the value would lose it.
  return json.length <= MAX_VALUE_LENGTH && !/\\u0000|\\ud[89a-f]|"__proto__":/i.test(json);
}

/** Nested JSON (object or array) kept as sent: checked on the input, never copied by zod. */
const nestedJsonSchema = z.custom<readonly unknown[] | { readonly [key: string]: unknown }>(
  isSafeNestedJson,
);

/** A value of an unknown key kept in `extra`: number, boolean, text, or small nested JSON. */
export const extraValueSchema = z.union([
  z.number(),
  z.boolean(),
  z.string().min(1).max(MAX_VALUE_LENGTH).refine((s) => !s.includes("\u0000") && s.isWellFormed()),
  nestedJsonSchema,
]);

/** A value kept in `extra`. */
export type ExtraValue = z.infer<typeof extraValueSchema>;

/** The `extra` object: unknown keys as sent, at most {@link MAX_EXTRA_KEYS} of them. */
export const extraSchema = z
  .record(z.string().min(1).max(MAX_KEY_LENGTH), extraValueSchema)
  .refine((extra) => Object.keys(extra).length <= MAX_EXTRA_KEYS, { message: "too many keys" });

/**
 * One telemetry row as the ingest stores it: catalogue columns present in the frame, plus
 * metadata columns. Built from the catalogue; unknown top-level keys are refused.
 */
export const frameRowSchema = z.strictObject({
  ...fieldShape,
  recorded_at: z.string().regex(ISO_MICROS),
  flight_id: safeText(MAX_FLIGHT_ID_LENGTH).optional(),
  raw_data: z.string().max(MAX_LINE_LENGTH),
  parser_version: z.string().min(1),
  data_source: z.enum(DATA_SOURCES),
  extra: extraSchema.optional(),
});

/** A validated telemetry row: keys are telemetry column names. */
export type TelemetryRow = z.infer<typeof frameRowSchema>;

/** A problem with one line (or JSON array element) of a request body. */
export interface LineError {
  /** 1-based line number, or 1-based element index for a JSON array. */
  readonly line: number;
  /** Canonical key (or the key as sent, if unknown) the problem is about, if any. */
  readonly key?: string;
  /** Sentence-case reason naming the key and the value. */
  readonly reason: string;
}

/**
 * Coerces a value as sent into the type of a catalogue field, so zod can validate it. Values that
 * do not convert are returned unchanged for zod to refuse with a clear reason.
 *
 * Numbers: JS numbers, or strings matching {@link STRICT_NUMBER}. Booleans: true/false, 0/1, or the
 * words 0, 1, true, false, yes, no (any case). Text: strings (trimmed) or finite numbers.
 *
 * @param kind Kind of the target field.
 * @param value Value as sent (a string for key:value lines, any JSON value for JSON).
 */
export function coerceFieldValue(kind: FieldKind, value: unknown): unknown {
  switch (kind) {
    case "number":
    case "integer": {
      if (typeof value !== "string") return value;
      const text = value.trim();
      if (!STRICT_NUMBER.test(text)) return text;
      const number = Number(text);
      return Number.isFinite(number) ? number : text;
    }
    case "boolean": {
      if (value === 0 || value === 1) return value === 1;
      if (typeof value !== "string") return value;
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return value;
    }
    case "text":
      if (typeof value === "string") return value.trim();
      if (typeof value === "number" && Number.isFinite(value)) return String(value);
      return value;
  }
}

/**
 * The smallest normal number of each floating column type (FLT_MIN, DBL_MIN); integer and other
 * types have none (0).
 */
// A Map, not an object literal: V8 keeps an object's fractional numbers in boxes of their own and
// copies one out on every read (a new number object per value checked).
const SMALLEST_NORMAL: ReadonlyMap<SqlType, number> = new Map<SqlType, number>([
  ["real", 1.1754943508222875e-38],
  ["double precision", 2.2250738585072014e-308],
]);

/**
 * A coerced value as its column stores it: a number smaller in magnitude than the column type's
 * smallest normal number, and -0, become 0; anything else is returned unchanged.
 *
 * Why normalise instead of refusing: Postgres refuses a decimal that underflows `real`
 * (`'1e-50'::real` is "out of range for type real"), and a frame the parser accepted but the
 * flush cannot cast would stall the flush for every tenant. A magnitude below 1.2e-38 carries no
 * telemetry meaning, so the frame keeps its other values and the field is stored as 0 (the
 * subnormal range goes too: whether `strtof` keeps a subnormal depends on the platform). The line
 * as sent stays in `raw_data`. Overflow cannot happen: every range in the catalogue lies inside
 * its column type's (catalogue_test.ts).
 *
 * @param sqlType The column type of the field.
 * @param value The value after {@link coerceFieldValue}.
 */
export function storableValue(sqlType: SqlType, value: unknown): unknown {
  if (typeof value !== "number") return value;
  return Math.abs(value) < (SMALLEST_NORMAL.get(sqlType) ?? 0) || Object.is(value, -0) ? 0 : value;
}

/**
 * Types the value of an unknown key from a `key:value` line: a finite strict number becomes a
 * number, anything else stays text.
 */
export function coerceKvExtraValue(value: string): string | number {
  if (STRICT_NUMBER.test(value)) {
    const number = Number(value);
    if (Number.isFinite(number)) return number;
  }
  return value;
}

/** Shows a value in a reason: text quoted and cut at 40 characters, other values as JSON. */
export function showValue(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === "number") return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 40 ? `${json.slice(0, 40)}…` : json;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined ||
    (typeof value === "string" && value.trim() === "");
}

function textReason(name: string, value: unknown, max: number): string {
  if (typeof value !== "string") return `"${name}" must be text, got ${showValue(value)}`;
  if (value.length > max) {
    return `"${name}" must be at most ${max} characters, got ${value.length}`;
  }
  return `"${name}" must not contain control characters or invalid Unicode, got ${
    showValue(value)
  }`;
}

/**
 * The reason a catalogue field's value is invalid, e.g.
 * `"roll_degrees" must be between -180 and 180, got 400`.
 */
export function fieldReason(spec: CatalogueField, value: unknown): string {
  const name = `"${spec.name}"`;
  if (isEmpty(value)) return `${name} must not be empty`;
  switch (spec.kind) {
    case "number":
    case "integer":
      if (typeof value === "string" && STRICT_NUMBER.test(value)) {
        return `${name} must be a finite number, got ${showValue(value)}`;
      }
      if (typeof value !== "number") return `${name} must be a number, got ${showValue(value)}`;
      if (spec.kind === "integer" && !Number.isInteger(value)) {
        return `${name} must be an integer, got ${value}`;
      }
      return `${name} must be between ${spec.min} and ${spec.max}, got ${value}`;
    case "boolean":
      return `${name} must be a boolean (0, 1, true, false, yes or no), got ${showValue(value)}`;
    case "text":
      return textReason(spec.name, value, spec.maxLength);
  }
}

function extraReason(key: string, value: unknown): string {
  const name = `"${key}"`;
  if (isEmpty(value)) return `${name} must not be empty`;
  if (typeof value === "string") {
    return value.length > MAX_VALUE_LENGTH
      ? `${name} must be at most ${MAX_VALUE_LENGTH} characters, got ${value.length}`
      : `${name} must not contain NUL characters or invalid Unicode`;
  }
  if (typeof value === "object") {
    return `${name} must be at most ${MAX_VALUE_LENGTH} characters of JSON, without NUL characters, invalid Unicode or "__proto__" keys`;
  }
  return `${name} must be a number, text or boolean, got ${showValue(value)}`;
}

function issueError(
  issue: z.core.$ZodIssue,
  candidate: Readonly<Record<string, unknown>>,
  line: number,
): LineError {
  const [top, sub] = issue.path;
  const key = typeof top === "string" ? top : "";
  const value = candidate[key];
  const spec = FIELD_BY_NAME.get(key);
  if (spec !== undefined) return { line, key, reason: fieldReason(spec, value) };
  if (key === "flight_id") {
    const reason = isEmpty(value)
      ? `"flight_id" must not be empty`
      : textReason("flight_id", value, MAX_FLIGHT_ID_LENGTH);
    return { line, key, reason };
  }
  if (key === "extra" && typeof sub === "string") {
    const extra = candidate["extra"];
    const extraValue = typeof extra === "object" && extra !== null
      ? Object.entries(extra).find(([k]) => k === sub)?.[1]
      : undefined;
    return { line, key: sub, reason: extraReason(sub, extraValue) };
  }
  if (key === "extra") {
    const extra = candidate["extra"];
    const count = typeof extra === "object" && extra !== null ? Object.keys(extra).length : 0;
    return {
      line,
      reason: `Frame has ${count} unknown keys, at most ${MAX_EXTRA_KEYS} are allowed`,
    };
  }
  return { line, key, reason: `"${key}" is invalid: ${issue.message}` };
}

/** Outcome of validating one candidate row. */
export type FrameValidation =
  | { readonly ok: true; readonly row: TelemetryRow }
  | { readonly ok: false; readonly errors: readonly LineError[] };

/**
 * Validates a candidate row with {@link frameRowSchema} and maps zod issues to line errors,
 * one per key.
 *
 * @param candidate Row with canonical keys and coerced values.
 * @param line Line number to put in errors.
 */
export function validateFrame(
  candidate: Readonly<Record<string, unknown>>,
  line: number,
): FrameValidation {
  const result = frameRowSchema.safeParse(candidate);
  if (result.success) return { ok: true, row: result.data };
  const errors: LineError[] = [];
  const seen = new Set<string>();
  for (const issue of result.error.issues) {
    const error = issueError(issue, candidate, line);
    const id = error.key ?? "";
    if (seen.has(id)) continue;
    seen.add(id);
    errors.push(error);
  }
  return { ok: false, errors };
}
