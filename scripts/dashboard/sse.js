/**
 * Server-Sent Events read from a `fetch` stream: browsers cannot set `Authorization` on an
 * `EventSource`, and tokens must not go into URLs, so the dashboard parses the stream itself.
 * The format: https://html.spec.whatwg.org/multipage/server-sent-events.html
 */

/**
 * @typedef {{ event: string, data: string, id: string | null, retry: number | null }} SseMessage
 */

/** Splits text chunks, cut anywhere, into the events they complete. */
export class SseParser {
  #buffer = "";

  /**
   * @param {string} chunk the next decoded text of the stream
   * @returns {SseMessage[]} the events this chunk completed, in order
   */
  push(chunk) {
    this.#buffer += chunk;
    // A CR at the very end may be the first half of a CRLF: keep it for the next chunk.
    const cut = this.#buffer.endsWith("\r") ? this.#buffer.length - 1 : this.#buffer.length;
    const text = this.#buffer.slice(0, cut).replace(/\r\n?/g, "\n");
    const rest = this.#buffer.slice(cut);
    const blocks = text.split("\n\n");
    this.#buffer = (blocks.pop() ?? "") + rest;
    return blocks.map(parseBlock).filter((message) => message !== null);
  }
}

/**
 * @param {string} block the lines of one event, without the blank line that ends it
 * @returns {SseMessage | null} null for a block of comments only
 */
function parseBlock(block) {
  /** @type {SseMessage} */
  const message = { event: "message", data: "", id: null, retry: null };
  const data = [];
  let fields = 0;
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const raw = colon < 0 ? "" : line.slice(colon + 1);
    const value = raw.startsWith(" ") ? raw.slice(1) : raw;
    fields++;
    if (field === "event") message.event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") message.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) message.retry = Number(value);
  }
  if (fields === 0) return null;
  message.data = data.join("\n");
  return message;
}
