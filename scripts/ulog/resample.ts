/**
 * Frames at a fixed rate from messages that come at their own rates: each frame holds the latest
 * value of every field at its tick (sample and hold), as a flight controller's telemetry link
 * sends it. Ticks fall on whole multiples of the period in the time given (the importer gives
 * microseconds since the epoch, so at 10 Hz frames are stamped .000, .100, .200 ... s), from the
 * first message on; a frame includes the messages stamped at or before its tick.
 *
 * @module
 */
import type { Mapped } from "./mapping.ts";

/** A frame: its time and every field's latest value. */
export interface HeldFrame {
  readonly micros: bigint;
  readonly fields: Mapped;
}

/** Sample-and-hold resampling of timestamped field values. */
export class Resampler {
  readonly #period: bigint;
  readonly #latest: Mapped = {};
  #nextTick: bigint | null = null;

  /** @param periodMicros Time between frames, in microseconds (at least 1). */
  constructor(periodMicros: bigint) {
    if (periodMicros < 1n) {
      throw new RangeError(`The period must be at least 1 µs, got ${periodMicros}`);
    }
    this.#period = periodMicros;
  }

  /**
   * Adds the values of a message. Messages must come in time order.
   *
   * @param micros The message's time.
   * @returns The frames of the ticks before `micros`, which no later message can change.
   */
  push(micros: bigint, fields: Mapped): HeldFrame[] {
    const frames = this.#until(micros, false);
    Object.assign(this.#latest, fields);
    // The first tick at or after the first message.
    this.#nextTick ??= ceilTo(micros, this.#period);
    return frames;
  }

  /**
   * @param micros The end of the log (the last message's time).
   * @returns The frames of the remaining ticks up to and including `micros`.
   */
  finish(micros: bigint): HeldFrame[] {
    return this.#until(micros, true);
  }

  #until(micros: bigint, inclusive: boolean): HeldFrame[] {
    const frames: HeldFrame[] = [];
    if (this.#nextTick === null) return frames;
    while (this.#nextTick < micros || (inclusive && this.#nextTick === micros)) {
      frames.push({ micros: this.#nextTick, fields: { ...this.#latest } });
      this.#nextTick += this.#period;
    }
    return frames;
  }
}

/** The smallest multiple of `step` at or above `value` (for non-negative values). */
function ceilTo(value: bigint, step: bigint): bigint {
  const rest = value % step;
  return rest === 0n ? value : value - rest + step;
}
