/**
 * The RESP2 reply parser fed byte chunks cut at every position, and RespConnection against a
 * canned server on 127.0.0.1 (those tests need --allow-net and are skipped without it).
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { type RedisReply, RedisReplyError, ReplyReader, RespConnection } from "./resp.ts";

const encoder = new TextEncoder();

/** A reply with errors turned into plain objects, so assertEquals compares their messages. */
type Plain = string | number | null | Plain[] | { error: string; isReplyError: boolean };

function plain(reply: RedisReply | undefined): Plain | undefined {
  if (reply === undefined) return undefined;
  if (reply instanceof RedisReplyError) return { error: reply.message, isReplyError: true };
  if (Array.isArray(reply)) return reply.map((item) => plain(item) ?? null);
  return reply;
}

const error = (message: string) => ({ error: message, isReplyError: true });

const REPLIES: [string, string, Plain][] = [
  ["a simple string", "+OK\r\n", "OK"],
  ["a simple string with UTF-8", "+h\u20acllo\r\n", "h\u20acllo"],
  ["an error", "-ERR wrong number of arguments\r\n", error("ERR wrong number of arguments")],
  ["an integer", ":42\r\n", 42],
  ["a negative integer", ":-7\r\n", -7],
  ["a bulk string", "$5\r\nhello\r\n", "hello"],
  ["an empty bulk string", "$0\r\n\r\n", ""],
  ["a null bulk string", "$-1\r\n", null],
  ["a bulk string holding CRLF", "$4\r\na\r\nb\r\n", "a\r\nb"],
  ["a bulk string of multi-byte UTF-8", "$7\r\n\u00e9\u20ac\u00e9\r\n", "\u00e9\u20ac\u00e9"],
  ["a null array", "*-1\r\n", null],
  ["an empty array", "*0\r\n", []],
  ["an array of mixed items", "*3\r\n$3\r\nfoo\r\n:1\r\n$-1\r\n", ["foo", 1, null]],
  [
    "a nested array with an error",
    "*2\r\n*2\r\n+a\r\n:2\r\n-WRONGTYPE bad\r\n",
    [["a", 2], error("WRONGTYPE bad")],
  ],
  ["a pipeline answer (EXEC)", "*2\r\n:1\r\n:1\r\n", [1, 1]],
];

/** Reads every complete reply the reader holds. */
function drain(reader: ReplyReader): Plain[] {
  const out: Plain[] = [];
  for (let reply = reader.next(); reply !== undefined; reply = reader.next()) {
    out.push(plain(reply) ?? null);
  }
  return out;
}

Deno.test("ReplyReader reads each reply type when it comes whole", async (t) => {
  for (const [name, text, expected] of REPLIES) {
    await t.step(name, () => {
      const reader = new ReplyReader();
      reader.push(encoder.encode(text));
      assertEquals(drain(reader), [expected]);
    });
  }
});

Deno.test("ReplyReader waits for the rest when a reply is cut at any byte", async (t) => {
  for (const [name, text, expected] of REPLIES) {
    await t.step(name, () => {
      const bytes = encoder.encode(text);
      for (let cut = 0; cut < bytes.length; cut++) {
        const reader = new ReplyReader();
        reader.push(bytes.slice(0, cut));
        assertEquals(reader.next(), undefined, `cut at ${cut}`);
        assertEquals(reader.next(), undefined, `cut at ${cut}, asked twice`);
        reader.push(bytes.slice(cut));
        assertEquals(drain(reader), [expected], `cut at ${cut}`);
      }
    });
  }
});

Deno.test("ReplyReader reads a reply fed one byte at a time only once it is complete", async (t) => {
  for (const [name, text, expected] of REPLIES) {
    await t.step(name, () => {
      const bytes = encoder.encode(text);
      const reader = new ReplyReader();
      const seen: Plain[][] = [];
      for (const byte of bytes) {
        reader.push(new Uint8Array([byte]));
        seen.push(drain(reader));
      }
      assertEquals(seen, [...Array.from({ length: bytes.length - 1 }, () => []), [expected]]);
    });
  }
});

Deno.test("ReplyReader reads pipelined replies in order whatever the chunk boundaries", () => {
  const text = REPLIES.map(([, reply]) => reply).join("");
  const expected = REPLIES.map(([, , reply]) => reply);
  const bytes = encoder.encode(text);
  for (let first = 0; first <= bytes.length; first++) {
    for (const second of [first, Math.min(first + 1, bytes.length), bytes.length]) {
      const reader = new ReplyReader();
      const out: Plain[] = [];
      for (
        const chunk of [bytes.slice(0, first), bytes.slice(first, second), bytes.slice(second)]
      ) {
        reader.push(chunk);
        out.push(...drain(reader));
      }
      assertEquals(out, expected, `cuts at ${first} and ${second}`);
    }
  }
});

Deno.test("ReplyReader throws on a reply type RESP2 does not have", () => {
  const reader = new ReplyReader();
  reader.push(encoder.encode("%1\r\n"));
  assertThrows(() => reader.next(), Error, 'Unexpected RESP reply type "%"');
});

// --- RespConnection over a real socket on 127.0.0.1 ---

const netGranted = Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state ===
  "granted";

/**
 * A one-connection server: reads until `expect` bytes arrived, answers with each chunk in turn,
 * then closes when `closeAfter` is set. Returns the port and the bytes it received.
 */
function cannedServer(expect: number, chunks: string[], closeAfter = false) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received = (async () => {
    const conn = await listener.accept();
    listener.close();
    const got: number[] = [];
    const buffer = new Uint8Array(1024);
    while (got.length < expect) {
      const n = await conn.read(buffer);
      if (n === null) break;
      got.push(...buffer.subarray(0, n));
    }
    for (const chunk of chunks) await conn.write(encoder.encode(chunk));
    if (closeAfter) conn.close();
    return { conn, text: new TextDecoder().decode(new Uint8Array(got)) };
  })();
  return { port: (listener.addr as Deno.NetAddr).port, received };
}

Deno.test({
  name: "RespConnection.send writes commands together and resolves their replies in order",
  ignore: !netGranted,
  async fn() {
    const commands = "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\u00e9\r\n";
    const wire = encoder.encode(commands);
    const server = cannedServer(wire.length, ["+PO", "NG\r\n+O", "K\r\n"]);
    const connection = await RespConnection.connect(server.port);
    const replies = await connection.send([["PING"], ["SET", "k", "\u00e9"]]);
    const { conn, text } = await server.received;
    assertEquals(replies, ["PONG", "OK"]);
    assertEquals(text, commands);
    connection.close();
    conn.close();
  },
});

Deno.test({
  name: "RespConnection.send rejects pending replies when the server closes the connection",
  ignore: !netGranted,
  async fn() {
    const commands = "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n" +
      "*3\r\n$6\r\nEXPIRE\r\n$1\r\nn\r\n$2\r\n60\r\n";
    // The server answers the first command only, then hangs up.
    const server = cannedServer(encoder.encode(commands).length, [":1\r\n"], true);
    const connection = await RespConnection.connect(server.port);
    await assertRejects(
      () => connection.send([["INCR", "n"], ["EXPIRE", "n", 60]]),
      Error,
      "Redis connection closed",
    );
    assertEquals((await server.received).text, commands);
    assertEquals(connection.closed, true);
    await assertRejects(() => connection.send([["PING"]]), Error, "Redis connection closed");
  },
});
