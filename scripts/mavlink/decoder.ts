/**
 * MAVLink v1 and v2 bytes to messages, with node-mavlink's packet splitter (start byte, length,
 * CRC with each message's CRC_EXTRA) and its message classes. Nothing thrown reaches the caller:
 * a packet with a bad CRC, a truncated packet and random bytes are counted as bad, a valid packet
 * of a message this build does not know as unknown.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  common,
  MavLinkPacketSplitter,
  MavLinkProtocolV1,
  MavLinkProtocolV2,
  minimal,
} from "node-mavlink";

/** A decoded message: who sent it, its name and its fields as node-mavlink names them. */
export interface MavlinkMessage {
  readonly systemId: number;
  readonly componentId: number;
  readonly name: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What the decoder has seen. */
export interface DecoderCounts {
  /** Valid packets of known messages. */
  messages: number;
  /** Valid packets (CRC checked) of messages outside the common set, e.g. ArduPilot's own. */
  unknown: number;
  /** Bad CRCs, truncated packets and bytes that are no packet at all. */
  bad: number;
}

// deno-lint-ignore no-explicit-any -- node-mavlink's registry is typed by message class
const REGISTRY: Record<number, any> = { ...minimal.REGISTRY, ...common.REGISTRY };
/** The longest MAVLink packet: a signed v2 packet with a 255-byte payload. */
const MAX_PACKET = 280;

type Validate = (buffer: Buffer, protocol: unknown) => number;
const VALID = 0;
const INVALID = 1;

/**
 * The splitter, with the packets it finds collected as they are found (no stream plumbing). A
 * packet whose message id no dialect knows is treated as invalid: node-mavlink would trust its
 * length and skip it whole, and in random bytes that swallows the valid packets after it; as
 * invalid, only its start byte is skipped and the search goes on.
 */
class PacketSplitter extends MavLinkPacketSplitter {
  readonly found: Buffer[] = [];
  constructor() {
    super();
    const self = this as unknown as { validatePacket: Validate };
    const validate = self.validatePacket.bind(this);
    self.validatePacket = (buffer, protocol) =>
      validate(buffer, protocol) === VALID ? VALID : INVALID;
  }
  override push(chunk: { buffer: Buffer } | null): boolean {
    if (chunk) this.found.push(chunk.buffer);
    return true;
  }
  /** Bytes held back waiting for the rest of a packet. */
  get held(): number {
    return (this as unknown as { buffer: Buffer }).buffer.length;
  }
  discardHeld(): void {
    (this as unknown as { buffer: Buffer }).buffer = Buffer.alloc(0);
  }
  split(bytes: Uint8Array): Buffer[] {
    this._transform(Buffer.from(bytes), "buffer", () => {});
    return this.found.splice(0);
  }
}

export class MavlinkDecoder {
  readonly counts: DecoderCounts = { messages: 0, unknown: 0, bad: 0 };
  readonly #splitter = new PacketSplitter();
  #invalidSeen = 0;

  /**
   * Decodes the packets in `bytes`. For a datagram (UDP), whatever is left over at its end is a
   * truncated packet or garbage and is dropped; on a byte stream (TCP) it waits for more.
   */
  decode(bytes: Uint8Array, datagram: boolean): MavlinkMessage[] {
    const messages: MavlinkMessage[] = [];
    for (const packet of this.#splitter.split(bytes)) {
      const message = this.#parse(packet);
      if (message) messages.push(message);
    }
    this.#countSplitter();
    if ((datagram && this.#splitter.held > 0) || this.#splitter.held > MAX_PACKET) {
      this.counts.bad++;
      this.#splitter.discardHeld();
    }
    return messages;
  }

  #parse(packet: Buffer): MavlinkMessage | null {
    try {
      const protocol = packet[0] === MavLinkProtocolV2.START_BYTE
        ? new MavLinkProtocolV2()
        : new MavLinkProtocolV1();
      const header = protocol.header(packet);
      const clazz = REGISTRY[header.msgid];
      if (!clazz) {
        this.counts.unknown++;
        return null;
      }
      const data = protocol.data(protocol.payload(packet), clazz);
      this.counts.messages++;
      return {
        systemId: header.sysid,
        componentId: header.compid,
        name: clazz.MSG_NAME,
        fields: { ...data },
      };
    } catch {
      this.counts.bad++;
      return null;
    }
  }

  /** Adds what the splitter itself refused (bad CRC, no such message id) since the last call. */
  #countSplitter(): void {
    const invalid = this.#splitter.invalidPackages;
    this.counts.bad += invalid - this.#invalidSeen;
    this.#invalidSeen = invalid;
  }
}
