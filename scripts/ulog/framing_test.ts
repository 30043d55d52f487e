import { assertEquals, assertMatch } from "@std/assert";
import { scanFraming } from "./framing.ts";

const header = [0x55, 0x4c, 0x6f, 0x67, 0x01, 0x12, 0x35, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
const message = (type: string, payload: number[]) => [
  payload.length & 0xff,
  payload.length >> 8,
  type.charCodeAt(0),
  ...payload,
];
const log = [
  ...header,
  ...message("F", [1, 2, 3]),
  ...message("A", [0, 0, 0]),
  ...message("D", [9, 9]),
];

Deno.test("scanFraming accepts a whole log and finds the data section", () => {
  assertEquals(scanFraming(Uint8Array.from(log)), {
    dataStart: 22,
    intactEnd: log.length,
    problem: null,
  });
});

Deno.test("scanFraming names the byte offset of a cut-off message", () => {
  const cut = scanFraming(Uint8Array.from(log.slice(0, log.length - 1)));
  assertEquals(cut.intactEnd, 28);
  assertMatch(cut.problem ?? "", /Truncated log: the message at byte offset 28 needs 5 bytes/);
  const cutHeader = scanFraming(Uint8Array.from(log.slice(0, 30)));
  assertMatch(cutHeader.problem ?? "", /header at byte offset 28 is cut off/);
});

Deno.test("scanFraming names the byte offset of an unknown message type", () => {
  const bad = [...log];
  bad[30] = 0x7a;
  assertEquals(
    scanFraming(Uint8Array.from(bad)).problem,
    "Corrupt log: unknown message type 0x7a at byte offset 28",
  );
  assertMatch(scanFraming(Uint8Array.from([1, 2, 3])).problem ?? "", /Not a ULog file/);
});
