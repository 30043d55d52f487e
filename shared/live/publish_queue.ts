/**
 * The live feed's publishes, one send at a time per isolate, with a bounded wait behind it.
 *
 * Publishing is not awaited by ingest, and it outlives the request's admission ticket: with a
 * send per stored group, a Redis slower than ingest let sends pile up, each holding its entries
 * and the Upstash client's JSON copy of them. Measured (`deno task bench --rounds 1 --only
 * ingest,rss --path ours --scenario "80 fields"`): telemetry-parse peaked at 189 MiB, and at 122
 * MiB with publishing switched off. Here at most one send is in flight, and what waits behind it
 * is capped by characters: past the cap the oldest waiting frames are dropped (and logged), since
 * a live viewer wants the newest frames, and every dropped one is in Postgres (telemetry-query).
 * The device's next send says how many were dropped (`skipped`), so its viewers get a `gap` event
 * instead of a silent hole.
 *
 * @module
 */

/** One device's frames as their stream entries (see live_feed.ts EntryFields). */
export interface QueuedEntries {
  deviceId: string;
  entries: readonly { frames: string; flights: string }[];
  /**
   * Frames of this device not published just before these entries: set by ingest for frames it
   * stored while no one watched the device, and by the queue for frames it dropped from the wait.
   */
  skipped?: number;
}

/** What was dropped from the wait: logged by the caller. */
export interface DroppedFrames {
  frames: number;
  devices: number;
}

export interface PublishQueue {
  /** Queues entries behind the send in flight (starting one when none is); never throws. */
  push(batches: readonly QueuedEntries[]): void;
  /** Resolves when nothing is in flight or waiting (for tests and shutdown). */
  idle(): Promise<void>;
}

function size(batch: QueuedEntries): number {
  let chars = 0;
  for (const entry of batch.entries) chars += entry.frames.length + entry.flights.length;
  return chars;
}

function frameCount(batch: QueuedEntries): number {
  let frames = 0;
  for (const entry of batch.entries) frames += entry.frames.split("\n").length;
  return frames;
}

export interface PublishQueueOptions {
  /** Sends batches in order. Not retried: a failure goes to onError. */
  send: (batches: QueuedEntries[]) => Promise<void>;
  /**
   * What may wait behind the send in flight. A batch larger than this alone still waits: it is
   * one request's newest frames, bounded by LIVE_MAX_FRAMES_PER_REQUEST.
   */
  maxWaitingChars: number;
  /** Told, after each send, what was dropped from the front of the wait while it was in flight. */
  onDrop: (dropped: DroppedFrames) => void;
  onError: (error: unknown) => void;
}

export function createPublishQueue(options: PublishQueueOptions): PublishQueue {
  let waiting: QueuedEntries[] = [];
  let waitingChars = 0;
  let sending = false;
  let drained: Promise<void> = Promise.resolve();
  let droppedFrames = 0;
  const droppedDevices = new Set<string>();
  /** Frames dropped per device and not yet told to its stream. */
  const skipped = new Map<string, number>();

  /** The wait as sent: each device's first batch carries what was dropped before it. */
  function withSkipped(batches: QueuedEntries[]): QueuedEntries[] {
    const sent = batches.map((batch) => {
      const count = skipped.get(batch.deviceId);
      if (count === undefined) return batch;
      skipped.delete(batch.deviceId);
      return { ...batch, skipped: count + (batch.skipped ?? 0) };
    });
    for (const [deviceId, count] of skipped) sent.push({ deviceId, entries: [], skipped: count });
    skipped.clear();
    return sent;
  }

  async function drain(): Promise<void> {
    try {
      while (waiting.length > 0 || skipped.size > 0) {
        const next = withSkipped(waiting);
        waiting = [];
        waitingChars = 0;
        try {
          await options.send(next);
        } catch (error) {
          options.onError(error);
        }
        // Once per send, not per push: an overloaded isolate logs a line per send at most.
        if (droppedFrames > 0) {
          options.onDrop({ frames: droppedFrames, devices: droppedDevices.size });
          droppedFrames = 0;
          droppedDevices.clear();
        }
      }
    } finally {
      // Cleared in the same step that found the wait empty: a push after it starts a new drain.
      sending = false;
    }
  }

  return {
    push(batches) {
      for (const batch of batches) {
        if (batch.entries.length === 0 && !batch.skipped) continue;
        waiting.push(batch);
        waitingChars += size(batch);
      }
      while (waitingChars > options.maxWaitingChars && waiting.length > 1) {
        const oldest = waiting.shift();
        if (oldest === undefined) break;
        waitingChars -= size(oldest);
        const frames = frameCount(oldest) + (oldest.skipped ?? 0);
        droppedFrames += frames;
        droppedDevices.add(oldest.deviceId);
        skipped.set(oldest.deviceId, (skipped.get(oldest.deviceId) ?? 0) + frames);
      }
      if (!sending && waiting.length > 0) {
        sending = true;
        drained = drain();
      }
    },
    idle: () => drained,
  };
}
