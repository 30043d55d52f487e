/**
 * The MAVLink bridge: bytes from a link → messages of one vehicle → frames at a fixed rate →
 * the device client (with its disk spool, when given). One bridge is one device: it follows one
 * MAVLink system id (given, or the first that sends an autopilot HEARTBEAT) and counts packets of
 * other systems as ignored, saying once on stderr how to bridge them (another bridge, another
 * device key, `--system-id`). Ground stations (system id 255 by convention) are ignored quietly.
 *
 * @module
 */
import type { DeviceClient } from "../device/client.ts";
import { MavlinkDecoder, type MavlinkMessage } from "./decoder.ts";
import { FrameMaker } from "./frames.ts";
import { AUTOPILOT } from "./modes.ts";

export interface BridgeOptions {
  readonly client: DeviceClient;
  readonly rate: number;
  /** The MAVLink system id to follow; by default the first autopilot heard. */
  readonly systemId?: number;
  /** The flight in progress when the bridge starts again mid-flight. */
  readonly flightId?: string | null;
  /** Called when the flight in progress changes (to keep it across restarts). */
  readonly onFlight?: (flightId: string | null) => void;
  /** Where the one-time notice about other systems goes. */
  readonly warn?: (message: string) => void;
  readonly now?: () => number;
}

/** The stats line the bridge prints. */
export interface BridgeStats {
  /** Valid MAVLink packets received. */
  received: number;
  /** Frames made (each on disk first, with a spool). */
  produced: number;
  /** Frames the API answered for (stored, or refused as invalid). */
  acknowledged: number;
  /** Frames waiting to be sent (in the spool, with one). */
  spooled: number;
  /** Frames lost: dropped from a full spool or buffer, or failed for good. */
  dropped: number;
  /** Packets with a bad CRC, truncated packets, bytes that are no packet. */
  "bad_packets": number;
  /** Valid packets of messages the bridge does not know. */
  "unknown_messages": number;
  /** Packets of other system ids. */
  ignored: number;
}

const GROUND_STATION = 255;

export class MavlinkBridge {
  readonly #options: BridgeOptions;
  readonly #decoder = new MavlinkDecoder();
  readonly #frames: FrameMaker;
  #systemId: number | null;
  #ignored = 0;
  readonly #warned = new Set<number>();

  constructor(options: BridgeOptions) {
    this.#options = options;
    this.#systemId = options.systemId ?? null;
    this.#frames = new FrameMaker({ rate: options.rate, flightId: options.flightId ?? null });
  }

  /** Takes bytes from the link: a whole datagram (UDP) or a piece of a byte stream (TCP). */
  receive(bytes: Uint8Array, datagram: boolean): void {
    const now = this.#now();
    for (const message of this.#decoder.decode(bytes, datagram)) {
      if (!this.#follows(message)) continue;
      const flight = this.#frames.flightId;
      for (const frame of this.#frames.take(message, now)) this.#options.client.push(frame);
      if (this.#frames.flightId !== flight) this.#options.onFlight?.(this.#frames.flightId);
    }
  }

  /** Called at the frame rate: frames on the bridge's clock when the vehicle's is silent. */
  tick(): void {
    for (const frame of this.#frames.tick(this.#now())) this.#options.client.push(frame);
  }

  stats(): BridgeStats {
    const client = this.#options.client.stats;
    const counts = this.#decoder.counts;
    return {
      received: counts.messages,
      produced: client.produced,
      acknowledged: client.accepted + client.rejected,
      spooled: this.#options.client.pending,
      dropped: client.dropped + client.failed,
      "bad_packets": counts.bad,
      "unknown_messages": counts.unknown,
      ignored: this.#ignored,
    };
  }

  #follows(message: MavlinkMessage): boolean {
    const id = message.systemId;
    if (this.#systemId === null && message.name === "HEARTBEAT" && id !== GROUND_STATION) {
      if (Number(message.fields.autopilot) !== AUTOPILOT.INVALID) this.#systemId = id;
    }
    if (id === this.#systemId) return true;
    this.#ignored++;
    if (this.#systemId !== null && id !== GROUND_STATION && !this.#warned.has(id)) {
      this.#warned.add(id);
      this.#options.warn?.(
        `MAVLink system ${id} is on this link too; this bridge sends system ${this.#systemId} ` +
          `only. Bridge it with another device key: --system-id ${id}`,
      );
    }
    return false;
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }
}
