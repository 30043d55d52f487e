/**
 * {@link isFrameRow}: plain code that accepts exactly what `frameRowSchema` accepts, built once
 * from the catalogue. The parser runs it on every frame, since a zod parse per frame cost more
 * than everything else the parser does; only a frame it refuses goes through `validateFrame`,
 * which words the reasons. frame_checks_test.ts holds each check equal to its part of the schema.
 *
 * @module
 */
import { type CatalogueField, FIELDS } from "../catalogue/catalogue.ts";
import {
  DATA_SOURCES,
  ISO_MICROS,
  isSafeNestedJson,
  isSafeText,
  MAX_EXTRA_KEYS,
  MAX_FLIGHT_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_LINE_LENGTH,
  MAX_VALUE_LENGTH,
  type TelemetryRow,
} from "../catalogue/frame_schema.ts";

/** Whether a (coerced) value is acceptable; never throws. */
export type ValueCheck = (value: unknown) => boolean;

// The catalogue's bounds are finite, so `min <= value <= max` also refuses NaN and ±Infinity,
// which z.number() refuses. Integer bounds lie inside the safe range z.number().int() keeps to.
const numberIn = (min: number, max: number): ValueCheck => (value) =>
  typeof value === "number" && value >= min && value <= max;

const integerIn = (min: number, max: number): ValueCheck => (value) =>
  typeof value === "number" && value >= min && value <= max && Number.isInteger(value);

const isBoolean: ValueCheck = (value) => typeof value === "boolean";

const safeTextUpTo = (max: number): ValueCheck => (value) =>
  typeof value === "string" && value.length >= 1 && value.length <= max && isSafeText(value);

/**
 * The check of a catalogue field's value, as its schema in `frameRowSchema`.
 *
 * @param spec The field.
 * @returns A function telling whether a coerced value is valid for the field.
 */
export function fieldCheck(spec: CatalogueField): ValueCheck {
  switch (spec.kind) {
    case "number":
      return numberIn(spec.min, spec.max);
    case "integer":
      return integerIn(spec.min, spec.max);
    case "boolean":
      return isBoolean;
    case "text":
      return safeTextUpTo(spec.maxLength);
  }
}

/** Whether a (coerced) `flight_id` is valid. */
export const isValidFlightId: ValueCheck = safeTextUpTo(MAX_FLIGHT_ID_LENGTH);

/** Whether a value kept in `extra` is valid, as `extraValueSchema`. */
export function isValidExtraValue(value: unknown): boolean {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value);
    case "boolean":
      return true;
    case "string":
      return value.length >= 1 && value.length <= MAX_VALUE_LENGTH && !value.includes("\u0000") &&
        value.isWellFormed();
    default:
      return isSafeNestedJson(value);
  }
}

/**
 * Whether a value is a valid `extra` object, as `extraSchema`. Only plain objects with
 * enumerable string keys other than `__proto__` pass: those zod copies as they are, so the value
 * is the row's `extra` unchanged.
 */
export function isValidExtra(value: unknown): boolean {
  if (
    typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype
  ) {
    return false;
  }
  const keys = Reflect.ownKeys(value);
  if (keys.length > MAX_EXTRA_KEYS) return false;
  for (const key of keys) {
    if (
      typeof key !== "string" || key.length < 1 || key.length > MAX_KEY_LENGTH ||
      key === "__proto__" || !Object.prototype.propertyIsEnumerable.call(value, key) ||
      !isValidExtraValue(Reflect.get(value, key))
    ) {
      return false;
    }
  }
  return true;
}

const isString = (value: unknown): value is string => typeof value === "string";
const DATA_SOURCE_SET: ReadonlySet<unknown> = new Set(DATA_SOURCES);

/** The check of each key `frameRowSchema` knows. */
const ROW_CHECKS: ReadonlyMap<string, ValueCheck> = new Map<string, ValueCheck>([
  ...FIELDS.map((spec): [string, ValueCheck] => [spec.name, fieldCheck(spec)]),
  ["recorded_at", (value) => isString(value) && ISO_MICROS.test(value)],
  ["flight_id", isValidFlightId],
  ["raw_data", (value) => isString(value) && value.length <= MAX_LINE_LENGTH],
  ["parser_version", (value) => isString(value) && value.length >= 1],
  ["data_source", (value) => DATA_SOURCE_SET.has(value)],
  ["extra", isValidExtra],
]);

/**
 * Whether a candidate row is valid as it is: every key one `frameRowSchema` knows, every value
 * passing its check, the required metadata present. A row it accepts equals the schema's output
 * but for key order, so build candidates in the schema's key order (catalogue columns first).
 *
 * @param candidate Row with canonical keys and coerced values.
 */
export function isFrameRow(
  candidate: Readonly<Record<string, unknown>>,
): candidate is TelemetryRow {
  if (
    !("recorded_at" in candidate && "raw_data" in candidate && "parser_version" in candidate &&
      "data_source" in candidate)
  ) {
    return false;
  }
  for (const key in candidate) {
    const check = ROW_CHECKS.get(key);
    if (check === undefined || !check(candidate[key])) return false;
  }
  return true;
}
