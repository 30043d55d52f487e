/**
 * A disk spool for the device client: every frame is on disk (fsync'd) before it counts as
 * produced, each batch's Idempotency-Key is on disk before the batch is first sent, and an
 * acknowledged batch is let go. A companion computer that reboots, or a bridge killed with
 * SIGKILL, starts again on the same folder and sends what was never acknowledged, re-sending an
 * unanswered batch under its first key, so the API stores it once.
 *
 * On disk: numbered segment files `<n>.spool` of text records, one a line:
 * `<crc32 hex> <json>`. The records are `{"f":[frames],"s":seq}` (frames numbered from seq),
 * `{"k":key,"s":first,"e":last}` (a batch's key) and `{"a":last}` (acknowledged up to last). A
 * new segment starts with `{"h":{acked, next}}`, so any suffix of segments holds the whole state
 * and a fully acknowledged segment can be deleted. A line cut short by a crash, or one whose CRC
 * does not match, is skipped and counted (`torn`), never sent. Past `maxBytes` the oldest segment
 * is deleted and its unacknowledged frames counted as dropped.
 *
 * Everything here is synchronous: a frame is produced only after its write and fsync return.
 *
 * @module
 */
import { join } from "node:path";
import type { Frame } from "./send.ts";

export interface SpoolOptions {
  /** Largest size of the spool on disk; past it the oldest frames are dropped. Default 1 GiB. */
  readonly maxBytes?: number;
  /** Size at which a new segment file starts. Default 8 MiB, or maxBytes / 8 when smaller. */
  readonly segmentBytes?: number;
}

/** A batch whose key was written but whose answer was not: send it again under the same key. */
export interface PendingBatch {
  readonly key: string;
  readonly first: number;
  readonly last: number;
}

interface Segment {
  readonly path: string;
  readonly number: number;
  /** Highest seq its records name (0 when none): it may go once everything up to it is acked. */
  last: number;
  bytes: number;
}

type SpoolRecord =
  | { f: Frame[]; s: number }
  | { k: string; s: number; e: number }
  | { a: number }
  | { h: { acked: number; next: number } };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE) of a string's UTF-8 bytes, as 8 hex digits. */
export function crc32Hex(text: string): string {
  let crc = 0xffffffff;
  for (const byte of encoder.encode(text)) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}

export class Spool {
  /** Frames on disk not yet acknowledged. */
  get unacked(): number {
    return this.#next - 1 - this.#acked;
  }
  /** Seq of the last frame acknowledged (or dropped); frames are numbered from 1. */
  get acked(): number {
    return this.#acked;
  }
  /** Seq the next appended frame gets. */
  get next(): number {
    return this.#next;
  }
  /** Frames dropped because the spool was full. */
  dropped = 0;
  /** Records skipped on open: a line torn by a crash, or one whose CRC did not match. */
  torn = 0;
  /** Frames found unacknowledged when the spool was opened. */
  readonly recovered: number;

  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #segments: Segment[] = [];
  #file: Deno.FsFile | null = null;
  #acked = 0;
  #next = 1;
  #pending: PendingBatch | null = null;

  /** Opens (or creates) the spool in `dir` and reads back what a previous run left. */
  constructor(dir: string, options: SpoolOptions = {}) {
    this.#dir = dir;
    this.#maxBytes = options.maxBytes ?? 1024 ** 3;
    this.#segmentBytes = options.segmentBytes ?? Math.min(8 * 1024 ** 2, this.#maxBytes / 8);
    Deno.mkdirSync(dir, { recursive: true });
    const names = [...Deno.readDirSync(dir)]
      .filter((entry) => entry.isFile && /^\d+\.spool$/.test(entry.name))
      .map((entry) => entry.name)
      .sort((a, b) => parseInt(a) - parseInt(b));
    for (const name of names) this.#load(join(dir, name), parseInt(name));
    if (this.#pending && this.#pending.first !== this.#acked + 1) this.#pending = null;
    this.recovered = this.unacked;
    this.#startSegment();
  }

  /** The unanswered batch to send first, under its key, if a previous run left one. */
  pendingBatch(): PendingBatch | null {
    return this.#pending;
  }

  /** Writes frames and fsyncs; returns the seq of the first. */
  append(frames: readonly Frame[]): number {
    const first = this.#next;
    this.#write({ f: [...frames], s: first });
    this.#next += frames.length;
    this.#current().last = this.#next - 1;
    this.#sync();
    this.#bound();
    return first;
  }

  /** Writes a batch's key before its first send (fsync'd). */
  assignKey(batch: PendingBatch): void {
    this.#write({ k: batch.key, s: batch.first, e: batch.last });
    this.#current().last = Math.max(this.#current().last, batch.last);
    this.#sync();
    this.#pending = batch;
  }

  /** Lets go of every frame up to `last`: deletes the segments wholly acknowledged. */
  ack(last: number): void {
    if (last <= this.#acked) return;
    this.#acked = Math.min(last, this.#next - 1);
    this.#pending = null;
    this.#write({ a: this.#acked });
    this.#sync();
    while (this.#segments.length > 1 && this.#segments[0]!.last <= this.#acked) {
      Deno.removeSync(this.#segments.shift()!.path);
    }
  }

  /** Up to `max` unacknowledged frames from seq `from` on, read back from disk. */
  read(from: number, max: number): { seq: number; frame: Frame }[] {
    const out: { seq: number; frame: Frame }[] = [];
    const start = Math.max(from, this.#acked + 1);
    for (const segment of this.#segments) {
      if (segment.last < start || out.length >= max) continue;
      for (const record of this.#records(segment.path)) {
        if (!("f" in record)) continue;
        record.f.forEach((frame, i) => {
          const seq = record.s + i;
          if (seq >= start && seq <= this.#next - 1 && out.length < max) out.push({ seq, frame });
        });
      }
    }
    return out;
  }

  /** Bytes on disk. */
  get bytes(): number {
    return this.#segments.reduce((sum, segment) => sum + segment.bytes, 0);
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  #load(path: string, number: number): void {
    const segment: Segment = { path, number, last: 0, bytes: Deno.statSync(path).size };
    this.#segments.push(segment);
    for (const record of this.#records(path, true)) {
      if ("h" in record) {
        this.#acked = Math.max(this.#acked, record.h.acked);
        this.#next = Math.max(this.#next, record.h.next);
      } else if ("f" in record) {
        this.#next = Math.max(this.#next, record.s + record.f.length);
        segment.last = Math.max(segment.last, record.s + record.f.length - 1);
      } else if ("k" in record) {
        this.#pending = { key: record.k, first: record.s, last: record.e };
        segment.last = Math.max(segment.last, record.e);
      } else {
        this.#acked = Math.max(this.#acked, record.a);
        if (this.#pending && this.#pending.last <= record.a) this.#pending = null;
      }
    }
  }

  /** The valid records of a segment; with `count`, torn ones are counted. */
  #records(path: string, count = false): SpoolRecord[] {
    const records: SpoolRecord[] = [];
    const lines = decoder.decode(Deno.readFileSync(path)).split("\n");
    const tail = lines.pop(); // text after the last newline: a write cut short
    if (count && tail) this.torn++;
    for (const line of lines) {
      const json = line.slice(9);
      if (line[8] !== " " || crc32Hex(json) !== line.slice(0, 8)) {
        if (count) this.torn++;
        continue;
      }
      records.push(JSON.parse(json));
    }
    return records;
  }

  #current(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  #startSegment(): void {
    this.#file?.close();
    // A new file at every start as well: an older segment may end in a torn line.
    const number = (this.#segments[this.#segments.length - 1]?.number ?? 0) + 1;
    const path = join(this.#dir, `${String(number).padStart(9, "0")}.spool`);
    this.#file = Deno.openSync(path, { createNew: true, write: true });
    this.#segments.push({ path, number, last: 0, bytes: 0 });
    this.#write({ h: { acked: this.#acked, next: this.#next } });
    this.#sync();
  }

  #write(record: SpoolRecord): void {
    const json = JSON.stringify(record);
    const bytes = encoder.encode(`${crc32Hex(json)} ${json}\n`);
    let written = 0;
    while (written < bytes.length) written += this.#file!.writeSync(bytes.subarray(written));
    this.#current().bytes += bytes.length;
  }

  #sync(): void {
    this.#file!.syncDataSync();
  }

  /** Starts a new segment when the current one is full; drops the oldest past maxBytes. */
  #bound(): void {
    if (this.#current().bytes >= this.#segmentBytes) this.#startSegment();
    while (this.bytes > this.#maxBytes && this.#segments.length > 1) {
      const oldest = this.#segments.shift()!;
      const lost = Math.max(0, oldest.last - this.#acked);
      this.dropped += lost;
      this.#acked = Math.max(this.#acked, oldest.last);
      if (this.#pending && this.#pending.first <= this.#acked) this.#pending = null;
      Deno.removeSync(oldest.path);
      this.#write({ a: this.#acked });
      this.#sync();
    }
  }
}
