/**
 * Frame timestamps: device time (ISO 8601 or epoch numbers) and receive time, as ISO strings with
 * microsecond precision, the resolution of Postgres `timestamptz`.
 *
 * Epoch numbers are told apart by magnitude (of the integer part, so fractions are allowed):
 * - below 1e11: seconds (1e11 s is the year 5138, while 1e11 ms would be 1973),
 * - below 1e14: milliseconds,
 * - below 1e17: microseconds,
 * - anything larger (e.g. nanoseconds) is rejected.
 * ISO 8601 needs at least hours and minutes; without a zone it is read as UTC.
 * Digits finer than a microsecond are truncated.
 * Any timestamp must fall in [{@link MIN_RECORDED_AT}, receive time + {@link MAX_FUTURE_SKEW_MS}]:
 * this catches devices that send time since boot (which reads as 1970) or an unset clock.
 *
 * @module
 */

/** Earliest accepted device timestamp. */
export const MIN_RECORDED_AT = "2000-01-01T00:00:00Z";

/** How far past the receive time a device timestamp may be (clock skew), in milliseconds. */
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;

const MIN_MILLIS = Date.parse(MIN_RECORDED_AT);

const EPOCH_PATTERN = /^(\d{1,20})(?:\.(\d+))?$/;
const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** Result of reading a timestamp: an ISO string or a reason it was refused. */
export type TimestampResult =
  | { readonly ok: true; readonly iso: string }
  | { readonly ok: false; readonly reason: string };

/**
 * An instant as whole milliseconds since the epoch plus the microseconds past them (0-999): both
 * exact as numbers, where microseconds since the epoch alone would pass 2^53.
 */
interface Instant {
  readonly millis: number;
  readonly micros: number;
}

/** 10000-01-01T00:00:00Z: below it, and from the epoch on, toISOString has 24 characters. */
const YEAR_10000_MS = 253_402_300_800_000;

// Frames come many to a second (and a request's receive times share one), while toISOString is
// most of the cost of formatting one: the text of the last second formatted is kept.
let lastSecond = NaN;
let lastSecondText = "";

function pad3(value: number): string {
  return value < 10 ? `00${value}` : value < 100 ? `0${value}` : `${value}`;
}

function formatInstant(millis: number, micros: number): string {
  if (!(millis >= 0 && millis < YEAR_10000_MS)) {
    return `${new Date(millis).toISOString().slice(0, 23)}${pad3(micros)}Z`;
  }
  const second = Math.floor(millis / 1000);
  if (second !== lastSecond) {
    lastSecondText = new Date(second * 1000).toISOString().slice(0, 20); // up to the "."
    lastSecond = second;
  }
  return `${lastSecondText}${pad3(millis - second * 1000)}${pad3(micros)}Z`;
}

/**
 * Formats microseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
 *
 * @param micros Non-negative microseconds since 1970-01-01T00:00:00Z, before year 10000.
 * @returns The ISO 8601 string in UTC with six fractional digits.
 */
export function formatMicros(micros: bigint): string {
  if (micros >= 0n) return formatInstant(Number(micros / 1000n), Number(micros % 1000n));
  const iso = new Date(Number(micros / 1000n)).toISOString();
  return `${iso.slice(0, 23)}${(micros % 1000n).toString().padStart(3, "0")}Z`;
}

/**
 * The timestamp of an untimestamped frame: the receive time plus `index` microseconds.
 *
 * The frames of one request would otherwise share a receive time and be collapsed by the
 * `(device_id, recorded_at)` dedup key; one microsecond is the finest step `timestamptz` stores.
 *
 * @param receivedAt When the request arrived.
 * @param index Position of the frame in the body (0-based line or element index).
 */
export function receiveTimestamp(receivedAt: Date, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) {
    return formatMicros(BigInt(receivedAt.getTime()) * 1000n + BigInt(index));
  }
  return formatInstant(receivedAt.getTime() + Math.floor(index / 1000), index % 1000);
}

/** The first `scale` fraction digits (padded with zeros) as an integer. */
function fractionDigits(digits: string | undefined, scale: number): number {
  if (digits === undefined || scale === 0) return 0;
  return Number(digits.slice(0, scale).padEnd(scale, "0"));
}

function epochInstant(text: string): Instant | string {
  const match = EPOCH_PATTERN.exec(text);
  if (match === null) return "is not an ISO 8601 time or epoch number";
  // Up to 20 digits: BigInt, as 1e17 microseconds are past the exact range of a number.
  const whole = BigInt(match[1] ?? "0");
  const fraction = match[2];
  let micros: bigint;
  if (whole < 100_000_000_000n) {
    micros = whole * 1_000_000n + BigInt(fractionDigits(fraction, 6));
  } else if (whole < 100_000_000_000_000n) {
    micros = whole * 1000n + BigInt(fractionDigits(fraction, 3));
  } else if (whole < 100_000_000_000_000_000n) micros = whole;
  else return "is too large for epoch seconds, milliseconds or microseconds";
  return { millis: Number(micros / 1000n), micros: Number(micros % 1000n) };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1] ?? 0;
  // Date.UTC reads years 0-99 as 1900-1999; their leap years are judged as it judges them.
  const y = year < 100 ? year + 1900 : year;
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
}

function isoInstant(match: RegExpExecArray): Instant | string {
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6] ?? "0");
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return "has an invalid date";
  }
  if (hour > 23 || minute > 59 || second > 59) return "has an invalid time of day";
  let offsetMinutes = 0;
  if (match[9] !== undefined) {
    const hours = Number(match[10]);
    const minutes = Number(match[11] ?? "0");
    if (hours > 23 || minutes > 59) return "has an invalid UTC offset";
    offsetMinutes = (match[9] === "-" ? -1 : 1) * (hours * 60 + minutes);
  }
  const millis = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  const fraction = fractionDigits(match[7], 6);
  return { millis: millis + Math.floor(fraction / 1000), micros: fraction % 1000 };
}

function show(value: string | number): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

/**
 * Reads a device timestamp (ISO 8601 text, or epoch seconds, milliseconds or microseconds as a
 * number or digit string) and checks it lies in the accepted window.
 *
 * @param key Key the device used, named in the reason.
 * @param value Value as sent.
 * @param receivedAt Receive time, the base of the future bound.
 */
export function parseTimestamp(key: string, value: unknown, receivedAt: Date): TimestampResult {
  if (value === null || (typeof value === "string" && value.trim() === "")) {
    return { ok: false, reason: `"${key}" must not be empty` };
  }
  if (typeof value !== "string" && typeof value !== "number") {
    return { ok: false, reason: `"${key}" must be an ISO 8601 time or epoch number` };
  }
  const text = typeof value === "number" ? String(value) : value.trim();
  const iso = ISO_PATTERN.exec(text);
  const instant = iso === null ? epochInstant(text) : isoInstant(iso);
  if (typeof instant === "string") {
    return { ok: false, reason: `"${key}" ${instant}, got ${show(value)}` };
  }
  const maxMillis = receivedAt.getTime() + MAX_FUTURE_SKEW_MS;
  if (
    instant.millis < MIN_MILLIS || instant.millis > maxMillis ||
    (instant.millis === maxMillis && instant.micros > 0)
  ) {
    return {
      ok: false,
      reason: `"${key}" must be between ${MIN_RECORDED_AT} and one day after receipt, got ${
        show(value)
      }`,
    };
  }
  return { ok: true, iso: formatInstant(instant.millis, instant.micros) };
}
