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

const MIN_MICROS = BigInt(Date.parse(MIN_RECORDED_AT)) * 1000n;

const EPOCH_PATTERN = /^(\d{1,20})(?:\.(\d+))?$/;
const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** Result of reading a timestamp: an ISO string or a reason it was refused. */
export type TimestampResult =
  | { readonly ok: true; readonly iso: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Formats microseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
 *
 * @param micros Non-negative microseconds since 1970-01-01T00:00:00Z, before year 10000.
 * @returns The ISO 8601 string in UTC with six fractional digits.
 */
export function formatMicros(micros: bigint): string {
  const millis = micros / 1000n;
  const rest = micros % 1000n;
  const iso = new Date(Number(millis)).toISOString();
  return `${iso.slice(0, 23)}${rest.toString().padStart(3, "0")}Z`;
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
  return formatMicros(BigInt(receivedAt.getTime()) * 1000n + BigInt(index));
}

function fractionMicros(digits: string | undefined, scale: number): bigint {
  if (digits === undefined || scale === 0) return 0n;
  return BigInt(digits.slice(0, scale).padEnd(scale, "0"));
}

function epochMicros(text: string): bigint | string {
  const match = EPOCH_PATTERN.exec(text);
  if (match === null) return "is not an ISO 8601 time or epoch number";
  const whole = BigInt(match[1] ?? "0");
  const fraction = match[2];
  if (whole < 100_000_000_000n) return whole * 1_000_000n + fractionMicros(fraction, 6);
  if (whole < 100_000_000_000_000n) return whole * 1000n + fractionMicros(fraction, 3);
  if (whole < 100_000_000_000_000_000n) return whole;
  return "is too large for epoch seconds, milliseconds or microseconds";
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function isoMicros(match: RegExpExecArray): bigint | string {
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(match[i]));
  const second = Number(match[6] ?? "0");
  if (
    year === undefined || month === undefined || day === undefined || hour === undefined ||
    minute === undefined
  ) {
    return "is not a valid ISO 8601 time";
  }
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
  return BigInt(millis) * 1000n + fractionMicros(match[7], 6);
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
  const micros = iso === null ? epochMicros(text) : isoMicros(iso);
  if (typeof micros === "string") {
    return { ok: false, reason: `"${key}" ${micros}, got ${show(value)}` };
  }
  const maxMicros = BigInt(receivedAt.getTime() + MAX_FUTURE_SKEW_MS) * 1000n;
  if (micros < MIN_MICROS || micros > maxMicros) {
    return {
      ok: false,
      reason: `"${key}" must be between ${MIN_RECORDED_AT} and one day after receipt, got ${
        show(value)
      }`,
    };
  }
  return { ok: true, iso: formatMicros(micros) };
}
