/**
 * Imports a PX4 ULog file through the real API: reads it with `@foxglove/ulog`, maps its topics
 * to catalogue fields ({@link TOPIC_MAPPINGS}, `altitude_m` from one of {@link ALTITUDE_SOURCES}),
 * makes frames and sends them in order in batches through the device client.
 *
 * - Frames: by default one every 1/rate s (10 Hz) holding the latest value of every field
 *   ({@link Resampler}), as a telemetry link sends them; with `raw`, one per log timestamp
 *   holding the messages stamped at that microsecond and nothing else.
 * - Time: boot time plus the GPS clock's offset (time_utc_usec - timestamp of the first GPS
 *   message that has UTC); without one, `startTime` as the boot time.
 * - One flight id per log, from a hash of its definitions section, so a re-import (or an import
 *   of the rest of a log that was cut off before) gets the same one.
 * - Each batch's Idempotency-Key is a hash of its body: importing the same log twice sends the
 *   same batches under the same keys, and (device_id, recorded_at) dedups whatever differs.
 * - A truncated or corrupt log: the intact part before the first bad message is imported, then
 *   {@link UlogImportError} names the byte offset. Its last {@link HOLD_BACK_MICROS} of log time
 *   are held back: the logger writes messages up to a few hundred ms late (342 ms at most in the
 *   sample log), so messages beyond the cut may share those frames' timestamps, and a frame
 *   stored without them could never be completed (the API keeps the first frame of a timestamp).
 *
 * @module
 */
import { MessageType, ULog } from "@foxglove/ulog";
import { formatMicros } from "../../shared/ingest/timestamp.ts";
import {
  type BatchOutcome,
  type Frame,
  sendBatch,
  type SendOptions,
  toNdjson,
} from "../device/send.ts";
import { scanFraming } from "./framing.ts";
import {
  ALTITUDE_SOURCES,
  altitudeFrom,
  type AltitudeSource,
  mapMessage,
  type Mapped,
  MAPPING_BY_TOPIC,
} from "./mapping.ts";
import { type HeldFrame, Resampler } from "./resample.ts";

/** The log is truncated or corrupt; what came before the bad offset was imported. */
export class UlogImportError extends Error {
  override readonly name = "UlogImportError";
}

export interface ImportOptions extends SendOptions {
  /** Frames per request. */
  readonly batchFrames?: number;
  /** Boot time of the log in microseconds since the epoch, used when the log has no GPS time. */
  readonly startTimeMicros: bigint;
  /** Frames per second, each holding the latest value of every field (default 10). */
  readonly rateHz?: number;
  /** One frame per log timestamp instead (the messages stamped at that microsecond). */
  readonly raw?: boolean;
  readonly onProgress?: (done: number, total: number, summary: ImportSummary) => void;
}

export interface ImportSummary {
  flightId: string;
  /** Where the timestamps come from. */
  timeBase: "gps" | "start-time";
  /** Boot time (log time 0) in microseconds since the epoch. */
  bootMicros: bigint;
  /** Frames per second, or null for one frame per log timestamp (raw). */
  rateHz: number | null;
  /** Where altitude_m comes from, or null when the log has none of the sources. */
  altitudeSource: string | null;
  messagesByTopic: Record<string, number>;
  /** Topics in the log that are not mapped. */
  unmappedTopics: string[];
  outOfRange: number;
  frames: number;
  accepted: number;
  rejected: number;
  /** Batches the API had already stored under the same key (a repeated import). */
  replayedBatches: number;
  failedFrames: number;
  /** Frames at the end of a truncated log that were not sent. */
  heldBack: number;
  firstError: string | null;
}

/** Log time at the end of a truncated log that is not imported (see the module comment). */
export const HOLD_BACK_MICROS = 2_000_000n;

/** Frames per second unless told otherwise (the MAVLink bridge's default too). */
export const DEFAULT_RATE_HZ = 10;
/** The highest rate: a frame per millisecond is more than any logged topic holds. */
export const MAX_RATE_HZ = 1000;

const GPS_TOPICS = new Set(["sensor_gps", "vehicle_gps_position"]);

async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes.slice();
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The log's GPS UTC minus its boot time, from the first GPS message that has UTC. */
async function gpsOffset(ulog: ULog, ids: Set<number>): Promise<bigint | null> {
  if (ids.size === 0) return null;
  for await (const message of ulog.readMessages({ msgIds: ids, includeLogs: false })) {
    if (message.type !== MessageType.Data) continue;
    const utc = message.value.time_utc_usec;
    if (typeof utc === "bigint" && utc > 0n) return utc - message.value.timestamp;
  }
  return null;
}

/** The latest timestamp of the given topics. */
async function lastTimestamp(ulog: ULog, ids: Set<number>): Promise<bigint> {
  for await (
    const message of ulog.readMessages({ msgIds: ids, includeLogs: false, reverse: true })
  ) {
    if (message.type === MessageType.Data) return message.value.timestamp;
  }
  return 0n;
}

/** The first altitude source the log has a value from (instance 0 of its topic), or null. */
async function chooseAltitudeSource(ulog: ULog): Promise<AltitudeSource | null> {
  for (const source of ALTITUDE_SOURCES) {
    const ids = new Set(
      [...ulog.subscriptions].filter(([, s]) => s.name === source.topic && s.multiId === 0)
        .map(([id]) => id),
    );
    if (ids.size === 0) continue;
    for await (const message of ulog.readMessages({ msgIds: ids, includeLogs: false })) {
      if (message.type === MessageType.Data && altitudeFrom(source, message.value) !== undefined) {
        return source;
      }
    }
  }
  return null;
}

/** Opens the intact prefix of the log (the reader copies what it reads: it keeps views). */
async function open(bytes: Uint8Array, end: number): Promise<ULog> {
  const ulog = new ULog({
    open: () => Promise.resolve(end),
    read: (offset, length) => Promise.resolve(bytes.slice(offset, Math.min(end, offset + length))),
    size: () => end,
  });
  await ulog.open();
  return ulog;
}

/**
 * Imports a ULog file's bytes.
 * @throws {UlogImportError} after importing the intact part, when the log is cut off or corrupt
 */
export async function importUlog(
  bytes: Uint8Array,
  options: ImportOptions,
): Promise<ImportSummary> {
  const framing = scanFraming(bytes);
  if (framing.dataStart === null) {
    throw new UlogImportError(framing.problem ?? "The log has no data section");
  }
  let ulog: ULog;
  try {
    ulog = await open(bytes, framing.intactEnd);
  } catch (error) {
    throw new UlogImportError(
      `Cannot read the log: ${error instanceof Error ? error.message : error}`,
    );
  }
  const rateHz = options.raw ? null : options.rateHz ?? DEFAULT_RATE_HZ;
  if (rateHz !== null && !(rateHz > 0 && rateHz <= MAX_RATE_HZ)) {
    throw new RangeError(`The rate must be above 0 and at most ${MAX_RATE_HZ} Hz, got ${rateHz}`);
  }
  const altitude = await chooseAltitudeSource(ulog);
  const mapped = new Set<number>();
  const gps = new Set<number>();
  const unmapped = new Set<string>();
  for (const [id, subscription] of ulog.subscriptions) {
    const used = MAPPING_BY_TOPIC.has(subscription.name) || subscription.name === altitude?.topic;
    if (subscription.multiId !== 0 || !used) {
      unmapped.add(
        subscription.multiId === 0
          ? subscription.name
          : `${subscription.name}/${subscription.multiId}`,
      );
      continue;
    }
    mapped.add(id);
    if (GPS_TOPICS.has(subscription.name)) gps.add(id);
  }
  const offset = await gpsOffset(ulog, gps);
  const summary: ImportSummary = {
    flightId: `ulog-${(await sha256Hex(bytes.subarray(0, framing.dataStart))).slice(0, 24)}`,
    timeBase: offset === null ? "start-time" : "gps",
    bootMicros: offset ?? options.startTimeMicros,
    rateHz,
    altitudeSource: altitude?.label ?? null,
    messagesByTopic: {},
    unmappedTopics: [...unmapped].sort(),
    outOfRange: 0,
    frames: 0,
    accepted: 0,
    rejected: 0,
    replayedBatches: 0,
    failedFrames: 0,
    heldBack: 0,
    firstError: null,
  };
  const total = [...mapped].reduce((sum, id) => sum + (ulog.dataMessageCounts()?.get(id) ?? 0), 0);
  const batchFrames = options.batchFrames ?? 500;
  let batch: Frame[] = [];
  let done = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const frames = batch;
    batch = [];
    const key = `ulog-${await sha256Hex(toNdjson(frames))}`;
    count(summary, await sendBatch(frames, key, options), frames.length);
    options.onProgress?.(done, total, summary);
  };

  // Frames at or after this time (since the epoch) are held back from a truncated log.
  const holdFrom = framing.problem === null
    ? null
    : summary.bootMicros + await lastTimestamp(ulog, mapped) - HOLD_BACK_MICROS;
  const emit = async (frame: HeldFrame) => {
    if (holdFrom !== null && frame.micros >= holdFrom) {
      summary.heldBack++;
      return;
    }
    batch.push(
      { ts: formatMicros(frame.micros), flight_id: summary.flightId, ...frame.fields } as Frame,
    );
    summary.frames++;
    if (batch.length >= batchFrames) await flush();
  };
  const frames = summary.rateHz === null
    ? new SameTimestamp()
    : new Resampler(BigInt(Math.round(1e6 / summary.rateHz)));

  let last = 0n;
  for await (const message of ulog.readMessages({ msgIds: mapped, includeLogs: false })) {
    if (message.type !== MessageType.Data) continue;
    const topic = ulog.subscriptions.get(message.msgId)?.name ?? "";
    done++;
    summary.messagesByTopic[topic] = (summary.messagesByTopic[topic] ?? 0) + 1;
    const { fields, outOfRange } = mapMessage(topic, message.value);
    summary.outOfRange += outOfRange;
    if (topic === altitude?.topic) {
      const metres = altitudeFrom(altitude, message.value);
      if (metres !== undefined) fields.altitude_m = metres;
    }
    if (Object.keys(fields).length === 0) continue;
    last = summary.bootMicros + message.value.timestamp;
    for (const frame of frames.push(last, fields)) await emit(frame);
  }
  for (const frame of frames.finish(last)) await emit(frame);
  await flush();
  if (framing.problem !== null) {
    throw new UlogImportError(
      `${framing.problem}; the ${summary.frames} frames before it were imported`,
    );
  }
  return summary;
}

function count(summary: ImportSummary, outcome: BatchOutcome, frames: number): void {
  if (outcome.kind === "stored") {
    summary.accepted += outcome.accepted;
    summary.rejected += outcome.rejected;
    if (outcome.replayed) summary.replayedBatches++;
    summary.firstError ??= outcome.errors[0]?.reason ?? null;
  } else if (outcome.kind === "rejected") {
    summary.rejected += outcome.rejected;
    summary.firstError ??= outcome.message;
  } else {
    summary.failedFrames += frames;
    summary.firstError ??= outcome.message;
  }
}

/** One frame per timestamp: the fields of every message stamped at that microsecond. */
class SameTimestamp {
  #current: { micros: bigint; fields: Mapped } | null = null;

  push(micros: bigint, fields: Mapped): HeldFrame[] {
    const done = this.#current !== null && this.#current.micros !== micros ? this.finish() : [];
    this.#current ??= { micros, fields: {} };
    Object.assign(this.#current.fields, fields);
    return done;
  }

  finish(): HeldFrame[] {
    const done = this.#current === null ? [] : [this.#current];
    this.#current = null;
    return done;
  }
}
