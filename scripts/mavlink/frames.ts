/**
 * Frames at a fixed rate from MAVLink messages: each frame holds the latest value of every field,
 * one frame every 1/rate s of the vehicle's own clock (time_boot_ms), stamped with the vehicle's
 * Unix time (SYSTEM_TIME's time_unix_usec minus its time_boot_ms, plus the tick's boot time). The
 * first frames wait up to 3 s for a SYSTEM_TIME (PX4 and ArduPilot send it about once a second),
 * so that a bridge started mid-flight does not stamp frames with two clocks; a vehicle that never
 * sends one gets frames stamped with the receive time. A vehicle that sends no timed message
 * gets frames on the bridge's own clock instead (see {@link FrameMaker.tick}). `flight_id` runs
 * from arming to disarming.
 *
 * Pure: the receive clock is passed in, so tests replay any timeline.
 *
 * @module
 */
import type { Frame } from "../device/send.ts";
import type { MavlinkMessage } from "./decoder.ts";
import { bootMillis, fieldsOf, type FieldValues } from "./fields.ts";

export interface FrameMakerOptions {
  /** Frames per second of vehicle time. */
  readonly rate: number;
  /** The flight in progress when the bridge starts again mid-flight (from its state file). */
  readonly flightId?: string | null;
}

/** A vehicle clock jumping back by more than this has rebooted. */
const REBOOT_MS = 10_000;
/** How long the first frames wait for SYSTEM_TIME before the receive time is used instead. */
const SYSTEM_TIME_WAIT_MS = 3_000;
/** Without a timed message for this long, frames follow the bridge's clock. */
const VEHICLE_CLOCK_STALE_MS = 2_000;

export class FrameMaker {
  /** The flight in progress, or null on the ground. */
  flightId: string | null;
  readonly #periodMs: number;
  readonly #maxCatchUp: number;
  readonly #latest: FieldValues = {};
  #unixAtBoot: number | null = null;
  #lastBoot: number | null = null;
  #lastTick: number | null = null;
  #bootSeenAt = -Infinity;
  #heardAt = -Infinity;
  #firstHeardAt: number | null = null;
  #lastWallFrame = -Infinity;
  #armed: boolean | null = null;

  constructor(options: FrameMakerOptions) {
    this.#periodMs = 1000 / options.rate;
    this.#maxCatchUp = Math.max(2, Math.ceil(options.rate * 2));
    this.flightId = options.flightId ?? null;
  }

  /**
   * Takes one message received at `receivedAt` (Unix ms); returns the frames now due, made from
   * the values before this message (the message belongs to the tick after them).
   */
  take(message: MavlinkMessage, receivedAt: number): Frame[] {
    this.#heardAt = receivedAt;
    this.#firstHeardAt ??= receivedAt;
    if (message.name === "SYSTEM_TIME") {
      const unixUs = BigInt(message.fields.timeUnixUsec as bigint | number);
      const boot = Number(message.fields.timeBootMs);
      if (unixUs > 0n) this.#unixAtBoot = Number(unixUs / 1000n) - boot;
    }
    const frames: Frame[] = [];
    const boot = bootMillis(message);
    if (boot !== null) {
      if (this.#lastBoot !== null && boot < this.#lastBoot - REBOOT_MS) {
        this.#lastTick = null; // rebooted: its clock and Unix offset start anew
        this.#unixAtBoot = message.name === "SYSTEM_TIME" ? this.#unixAtBoot : null;
      }
      this.#lastBoot = boot;
      this.#bootSeenAt = receivedAt;
      frames.push(...this.#due(boot, receivedAt));
    }
    this.#apply(
      fieldsOf(message),
      boot === null ? receivedAt : this.#stamp(boot, receivedAt, boot),
    );
    return frames;
  }

  /**
   * A frame on the bridge's clock when the vehicle is heard but sends nothing timed (e.g. only
   * HEARTBEATs); else none. A silent vehicle gets no frames of stale values.
   */
  tick(now: number): Frame[] {
    if (now - this.#bootSeenAt < VEHICLE_CLOCK_STALE_MS) return [];
    if (now - this.#heardAt >= VEHICLE_CLOCK_STALE_MS) return [];
    if (now - this.#lastWallFrame < this.#periodMs || Object.keys(this.#latest).length === 0) {
      return [];
    }
    this.#lastWallFrame = now;
    return [this.#frame(now)];
  }

  #due(boot: number, receivedAt: number): Frame[] {
    const tick = Math.floor(boot / this.#periodMs);
    if (this.#lastTick === null || tick - this.#lastTick > this.#maxCatchUp) {
      this.#lastTick = tick - 1;
    }
    const frames: Frame[] = [];
    const waitingForClock = this.#unixAtBoot === null &&
      receivedAt - (this.#firstHeardAt ?? receivedAt) < SYSTEM_TIME_WAIT_MS;
    const hasValues = Object.keys(this.#latest).length > 0 && !waitingForClock;
    for (let t = this.#lastTick + 1; t <= tick; t++) {
      if (hasValues) frames.push(this.#frame(this.#stamp(t * this.#periodMs, receivedAt, boot)));
    }
    this.#lastTick = tick;
    return frames;
  }

  /** Unix ms of boot time `at`: the vehicle's clock, else the receive time shifted alike. */
  #stamp(at: number, receivedAt: number, boot: number): number {
    return this.#unixAtBoot !== null ? this.#unixAtBoot + at : receivedAt - (boot - at);
  }

  #apply(values: FieldValues, at: number): void {
    if (typeof values.armed === "boolean" && values.armed !== this.#armed) {
      if (values.armed && (this.#armed === false || this.flightId === null)) {
        this.flightId = `flight-${new Date(at).toISOString().replace(/[-:]|\.\d+/g, "")}`;
      }
      if (!values.armed) this.flightId = null;
      this.#armed = values.armed;
    }
    Object.assign(this.#latest, values);
  }

  #frame(at: number): Frame {
    const frame: Record<string, string | number | boolean> = {
      ts: new Date(Math.round(at)).toISOString(),
      ...this.#latest,
    };
    if (this.flightId !== null) frame.flight_id = this.flightId;
    return frame;
  }
}
