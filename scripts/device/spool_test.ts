import { assertEquals } from "@std/assert";
import { join } from "node:path";
import { Spool } from "./spool.ts";

const frame = (n: number) => ({ ts: `2026-01-01T00:00:${String(n % 60).padStart(2, "0")}Z`, n });

function segments(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => join(dir, entry.name)).sort();
}

Deno.test("Spool gives back unacknowledged frames and the unanswered batch's key after a reopen", () => {
  const dir = Deno.makeTempDirSync();
  const first = new Spool(dir);
  for (let n = 1; n <= 10; n++) first.append([frame(n)]);
  first.assignKey({ key: "k1", first: 1, last: 4 });
  first.ack(4);
  first.assignKey({ key: "k2", first: 5, last: 8 });
  // killed here: no close, the answer for k2 never came

  const second = new Spool(dir);
  assertEquals(second.acked, 4);
  assertEquals(second.recovered, 6);
  assertEquals(second.pendingBatch(), { key: "k2", first: 5, last: 8 });
  assertEquals(second.read(1, 100).map((entry) => entry.frame), [5, 6, 7, 8, 9, 10].map(frame));
  assertEquals(second.append([frame(11)]), 11);
  second.ack(8);
  assertEquals(second.pendingBatch(), null);
  assertEquals(new Spool(dir).read(0, 100).map((entry) => entry.seq), [9, 10, 11]);
});

Deno.test("Spool skips and counts a torn last line and a line whose CRC does not match", () => {
  const dir = Deno.makeTempDirSync();
  const spool = new Spool(dir);
  spool.append([frame(1)]);
  spool.append([frame(2)]);
  spool.close();
  const [path] = segments(dir);
  const text = Deno.readTextFileSync(path!);
  const lines = text.split("\n");
  // The second frame's record is corrupted in place; a third one is cut in the middle.
  lines[2] = lines[2]!.replace('"n":2', '"n":9');
  Deno.writeTextFileSync(path!, lines.join("\n") + '0badc0de {"f":[{"n":');

  const reopened = new Spool(dir);
  assertEquals(reopened.torn, 2);
  assertEquals(reopened.read(1, 10).map((entry) => entry.frame), [frame(1)]);
  assertEquals(reopened.next, 2, "the torn frame's seq is given out again");
});

Deno.test("Spool drops the oldest frames past its size and counts them", () => {
  const dir = Deno.makeTempDirSync();
  const spool = new Spool(dir, { maxBytes: 8_000, segmentBytes: 1_000 });
  for (let n = 1; n <= 400; n++) spool.append([frame(n)]);
  const kept = spool.read(1, 1_000).map((entry) => entry.seq);
  assertEquals(spool.bytes <= 8_000, true, `${spool.bytes} bytes`);
  assertEquals(spool.dropped + kept.length, 400);
  assertEquals(kept[kept.length - 1], 400, "the newest frames are kept");
  assertEquals(kept[0], spool.dropped + 1, "the oldest ones are the ones dropped");
});

Deno.test("Spool deletes segments once everything in them is acknowledged", () => {
  const dir = Deno.makeTempDirSync();
  const spool = new Spool(dir, { segmentBytes: 500 });
  for (let n = 1; n <= 100; n++) spool.append([frame(n)]);
  const before = segments(dir).length;
  spool.ack(100);
  assertEquals(before > 3, true);
  assertEquals(segments(dir).length, 1);
  assertEquals(new Spool(dir).recovered, 0);
});
