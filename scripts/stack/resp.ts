/**
 * A minimal Redis client speaking RESP2 over one TCP connection, for the local Upstash endpoint.
 * Commands are queued and answered in order, which is all RESP needs for pipelining.
 */

/** A Redis error reply (`-ERR ...`), kept apart from connection failures. */
export class RedisReplyError extends Error {
  override readonly name = "RedisReplyError";
}

export type RedisReply = string | number | null | RedisReply[] | RedisReplyError;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeCommand(args: readonly (string | number)[]): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = encoder.encode(String(arg));
    parts.push(encoder.encode(`$${bytes.length}\r\n`), bytes, encoder.encode("\r\n"));
  }
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Incremental RESP2 reader over a growing byte buffer. */
export class ReplyReader {
  #buffer = new Uint8Array(0);
  #offset = 0;

  push(chunk: Uint8Array): void {
    const rest = this.#buffer.subarray(this.#offset);
    const merged = new Uint8Array(rest.length + chunk.length);
    merged.set(rest);
    merged.set(chunk, rest.length);
    this.#buffer = merged;
    this.#offset = 0;
  }

  /** One complete reply, or undefined when more bytes are needed. */
  next(): RedisReply | undefined {
    const start = this.#offset;
    const reply = this.#read();
    if (reply === undefined) this.#offset = start;
    return reply;
  }

  #line(): string | undefined {
    for (let i = this.#offset; i + 1 < this.#buffer.length; i++) {
      if (this.#buffer[i] === 13 && this.#buffer[i + 1] === 10) {
        const line = decoder.decode(this.#buffer.subarray(this.#offset, i));
        this.#offset = i + 2;
        return line;
      }
    }
    return undefined;
  }

  #read(): RedisReply | undefined {
    const line = this.#line();
    if (line === undefined) return undefined;
    const body = line.slice(1);
    switch (line[0]) {
      case "+":
        return body;
      case "-":
        return new RedisReplyError(body);
      case ":":
        return Number(body);
      case "$": {
        const length = Number(body);
        if (length < 0) return null;
        if (this.#buffer.length < this.#offset + length + 2) return undefined;
        const value = decoder.decode(this.#buffer.subarray(this.#offset, this.#offset + length));
        this.#offset += length + 2;
        return value;
      }
      case "*": {
        const count = Number(body);
        if (count < 0) return null;
        const items: RedisReply[] = [];
        for (let i = 0; i < count; i++) {
          const item = this.#read();
          if (item === undefined) return undefined;
          items.push(item);
        }
        return items;
      }
      default:
        throw new Error(`Unexpected RESP reply type ${JSON.stringify(line[0])}`);
    }
  }
}

/** One connection to Redis; commands sent together are written together (a pipeline). */
export class RespConnection {
  #conn: Deno.TcpConn;
  #reader = new ReplyReader();
  #waiting: { resolve: (reply: RedisReply) => void; reject: (error: Error) => void }[] = [];
  #closed = false;
  /** Writes are chained so that concurrent callers' bytes never interleave. */
  #writes: Promise<void> = Promise.resolve();

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#pump();
  }

  static async connect(port: number, hostname = "127.0.0.1"): Promise<RespConnection> {
    return new RespConnection(await Deno.connect({ hostname, port }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  async #pump(): Promise<void> {
    try {
      for await (const chunk of this.#conn.readable) {
        this.#reader.push(chunk);
        let reply = this.#reader.next();
        while (reply !== undefined) {
          this.#waiting.shift()?.resolve(reply);
          reply = this.#reader.next();
        }
      }
    } catch {
      // the connection broke; the waiters are rejected below
    }
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new Error("Redis connection closed"));
    }
  }

  /** Sends commands in one write and resolves with their replies in order. */
  async send(commands: readonly (readonly (string | number)[])[]): Promise<RedisReply[]> {
    if (this.#closed) throw new Error("Redis connection closed");
    const replies = commands.map(() =>
      new Promise<RedisReply>((resolve, reject) => this.#waiting.push({ resolve, reject }))
    );
    const encoded = commands.map(encodeCommand);
    const payload = new Uint8Array(encoded.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of encoded) {
      payload.set(part, offset);
      offset += part.length;
    }
    this.#writes = this.#writes.then(async () => {
      const writer = this.#conn.writable.getWriter();
      try {
        await writer.write(payload);
      } finally {
        writer.releaseLock();
      }
    });
    await this.#writes;
    return await Promise.all(replies);
  }

  close(): void {
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}
