/**
 * Checks a ULog file's message framing before it is read. The reader we use
 * (`@foxglove/ulog`) stops quietly at a cut-off message; an import must instead say where the
 * log breaks. Every ULog message starts with a 3-byte header (uint16 size, uint8 type), so one
 * walk over the headers finds the first message that is cut off or of an unknown type.
 *
 * @module
 */

const MAGIC = [0x55, 0x4c, 0x6f, 0x67, 0x01, 0x12, 0x35];
const FILE_HEADER_BYTES = 16;
/** Message types of the definitions section (flag bits, format, info, multi info, parameters). */
const DEFINITION_TYPES = new Set("BFIMPQ");
/** Message types of the data section (subscribe, unsubscribe, data, logs, sync, dropout). */
const DATA_TYPES = new Set("ARDLCSO");

/** Where the intact part of a log ends and why. */
export interface Framing {
  /** Byte offset of the first data-section message (the definitions end there), or null. */
  readonly dataStart: number | null;
  /** Bytes from the start that hold whole, known messages. */
  readonly intactEnd: number;
  /** What is wrong at `intactEnd`, or null when the whole file is intact. */
  readonly problem: string | null;
}

/**
 * Walks the message headers of a ULog file.
 *
 * @param bytes The whole file.
 * @returns The intact prefix and, if the file is truncated or corrupt, a message naming the
 *   byte offset of the first bad message.
 */
export function scanFraming(bytes: Uint8Array): Framing {
  if (bytes.length < FILE_HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) {
    return {
      dataStart: null,
      intactEnd: 0,
      problem: "Not a ULog file: bad header at byte offset 0",
    };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = FILE_HEADER_BYTES;
  let dataStart: number | null = null;
  while (offset < bytes.length) {
    const broken = (problem: string): Framing => ({ dataStart, intactEnd: offset, problem });
    if (bytes.length - offset < 3) {
      return broken(`Truncated log: the message header at byte offset ${offset} is cut off`);
    }
    const size = view.getUint16(offset, true);
    const type = String.fromCharCode(bytes[offset + 2] ?? 0);
    if (!DEFINITION_TYPES.has(type) && !DATA_TYPES.has(type)) {
      const code = (bytes[offset + 2] ?? 0).toString(16).padStart(2, "0");
      return broken(`Corrupt log: unknown message type 0x${code} at byte offset ${offset}`);
    }
    if (offset + 3 + size > bytes.length) {
      return broken(
        `Truncated log: the message at byte offset ${offset} needs ${3 + size} bytes, ` +
          `the file ends ${bytes.length - offset} bytes after it starts`,
      );
    }
    if (dataStart === null && DATA_TYPES.has(type)) dataStart = offset;
    offset += 3 + size;
  }
  return { dataStart, intactEnd: offset, problem: null };
}
