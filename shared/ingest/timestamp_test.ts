import { assertEquals } from "@std/assert";
import {
  formatMicros,
  MAX_FUTURE_SKEW_MS,
  MIN_RECORDED_AT,
  parseTimestamp,
  receiveTimestamp,
} from "./timestamp.ts";

const RECEIVED = new Date("2024-05-01T12:00:00.250Z");

Deno.test("formatMicros writes six fractional digits in UTC", () => {
  assertEquals(formatMicros(0n), "1970-01-01T00:00:00.000000Z");
  assertEquals(formatMicros(1714564800123456n), "2024-05-01T12:00:00.123456Z");
  assertEquals(formatMicros(1714564800999999n), "2024-05-01T12:00:00.999999Z");
});

Deno.test("receiveTimestamp adds the frame index in microseconds", () => {
  assertEquals(receiveTimestamp(RECEIVED, 0), "2024-05-01T12:00:00.250000Z");
  assertEquals(receiveTimestamp(RECEIVED, 1), "2024-05-01T12:00:00.250001Z");
  assertEquals(receiveTimestamp(RECEIVED, 999), "2024-05-01T12:00:00.250999Z");
  assertEquals(receiveTimestamp(RECEIVED, 1000), "2024-05-01T12:00:00.251000Z");
  assertEquals(receiveTimestamp(RECEIVED, 750_000), "2024-05-01T12:00:01.000000Z");
});

Deno.test("parseTimestamp reads each epoch unit by magnitude", async (t) => {
  const cases: ReadonlyArray<readonly [string | number, string]> = [
    ["1714564800", "2024-05-01T12:00:00.000000Z"],
    [1714564800, "2024-05-01T12:00:00.000000Z"],
    ["1714564800.5", "2024-05-01T12:00:00.500000Z"],
    ["1714564800.1234567", "2024-05-01T12:00:00.123456Z"],
    [1714564800.25, "2024-05-01T12:00:00.250000Z"],
    ["1714564800123", "2024-05-01T12:00:00.123000Z"],
    [1714564800123, "2024-05-01T12:00:00.123000Z"],
    ["1714564800123.456", "2024-05-01T12:00:00.123456Z"],
    ["1714564800123456", "2024-05-01T12:00:00.123456Z"],
    [1714564800123456, "2024-05-01T12:00:00.123456Z"],
    ["1714564800123456.9", "2024-05-01T12:00:00.123456Z"],
    [" 1714564800 ", "2024-05-01T12:00:00.000000Z"],
    ["99999999999", "5138-11-16T09:46:39.000000Z"],
  ];
  for (const [value, iso] of cases) {
    await t.step(`${JSON.stringify(value)} -> ${iso}`, () => {
      const received = new Date("6000-01-01T00:00:00Z");
      const at = iso.startsWith("5138") ? received : RECEIVED;
      assertEquals(parseTimestamp("recorded_at", value, at), { ok: true, iso });
    });
  }
});

Deno.test("parseTimestamp reads ISO 8601 times", async (t) => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000000Z"],
    ["2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00.123000Z"],
    ["2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123456Z"],
    ["2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00.123456Z"],
    ["2024-05-01T12:00:00,5Z", "2024-05-01T12:00:00.500000Z"],
    ["2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00.000000Z"],
    ["2024-05-01T14:30:00+0230", "2024-05-01T12:00:00.000000Z"],
    ["2024-05-01T07:00:00-05", "2024-05-01T12:00:00.000000Z"],
    ["2024-05-01T12:00:00", "2024-05-01T12:00:00.000000Z"],
    ["2024-05-01 12:00:00", "2024-05-01T12:00:00.000000Z"],
    ["2024-05-01t12:00z", "2024-05-01T12:00:00.000000Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000000Z"],
    ["2000-01-01T00:00:00Z", "2000-01-01T00:00:00.000000Z"],
  ];
  for (const [value, iso] of cases) {
    await t.step(`${value} -> ${iso}`, () => {
      assertEquals(parseTimestamp("recorded_at", value, RECEIVED), { ok: true, iso });
    });
  }
});

Deno.test("parseTimestamp refuses bad or implausible times", async (t) => {
  const window = `must be between ${MIN_RECORDED_AT} and one day after receipt`;
  const cases: ReadonlyArray<readonly [unknown, string]> = [
    ["", `"recorded_at" must not be empty`],
    [null, `"recorded_at" must not be empty`],
    [true, `"recorded_at" must be an ISO 8601 time or epoch number`],
    [{}, `"recorded_at" must be an ISO 8601 time or epoch number`],
    ["yesterday", `"recorded_at" is not an ISO 8601 time or epoch number, got "yesterday"`],
    ["-1714564800", `"recorded_at" is not an ISO 8601 time or epoch number, got "-1714564800"`],
    ["1.7e9", `"recorded_at" is not an ISO 8601 time or epoch number, got "1.7e9"`],
    ["0x10", `"recorded_at" is not an ISO 8601 time or epoch number, got "0x10"`],
    ["2024-05-01", `"recorded_at" is not an ISO 8601 time or epoch number, got "2024-05-01"`],
    [
      "1714564800123456789",
      `"recorded_at" is too large for epoch seconds, milliseconds or microseconds, got "1714564800123456789"`,
    ],
    ["2024-13-01T00:00:00Z", `"recorded_at" has an invalid date, got "2024-13-01T00:00:00Z"`],
    ["2023-02-29T00:00:00Z", `"recorded_at" has an invalid date, got "2023-02-29T00:00:00Z"`],
    [
      "2024-05-01T24:00:00Z",
      `"recorded_at" has an invalid time of day, got "2024-05-01T24:00:00Z"`,
    ],
    [
      "2024-05-01T12:60:00Z",
      `"recorded_at" has an invalid time of day, got "2024-05-01T12:60:00Z"`,
    ],
    [
      "2024-05-01T12:00:60Z",
      `"recorded_at" has an invalid time of day, got "2024-05-01T12:00:60Z"`,
    ],
    [
      "2024-05-01T12:00:00+24:00",
      `"recorded_at" has an invalid UTC offset, got "2024-05-01T12:00:00+24:00"`,
    ],
    [123456, `"recorded_at" ${window}, got 123456`],
    ["946684799", `"recorded_at" ${window}, got "946684799"`],
    ["1999-12-31T23:59:59Z", `"recorded_at" ${window}, got "1999-12-31T23:59:59Z"`],
    ["2024-05-02T12:00:01Z", `"recorded_at" ${window}, got "2024-05-02T12:00:01Z"`],
  ];
  for (const [value, reason] of cases) {
    await t.step(`${JSON.stringify(value)}`, () => {
      assertEquals(parseTimestamp("recorded_at", value, RECEIVED), { ok: false, reason });
    });
  }
});

Deno.test("parseTimestamp accepts times up to one day after receipt", () => {
  const limit = new Date(RECEIVED.getTime() + MAX_FUTURE_SKEW_MS).toISOString();
  assertEquals(parseTimestamp("ts", limit, RECEIVED), {
    ok: true,
    iso: "2024-05-02T12:00:00.250000Z",
  });
});
