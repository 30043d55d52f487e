/**
 * Serves a fetch-style handler (Request in, Response out) over `node:http` instead of
 * `Deno.serve`, for the local gateway.
 *
 * Why not `Deno.serve`: since Deno 2.8.3 its own HTTP/1.1 path keeps reading a client's upload
 * while the handler awaits other I/O and the body is not being read (denoland/deno#36624 and
 * its follow-ups). A gateway is exactly that handler: it awaits the function while relaying the
 * body, and a function that answers 413 at its cap stops reading. With an endless upload the
 * gateway then copied hundreds of MB at full CPU and stopped answering anyone (CI: 533 MB over
 * 6 minutes, then a 33-minute stall of the suites after it). `node:http` gives the gateway the
 * socket's lifetime to decide: after answering, it drains an unfinished upload for a moment (so
 * the client reads the answer before the connection closes) and then closes it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { endToEndHeaders, headersOf } from "./node_http_headers.ts";

/**
 * How much of an upload the answer did not need is still drained before its connection closes:
 * enough for a device on a slow link to finish a 5 MiB body it was told 503 for (Deno's fetch
 * fails with a broken pipe rather than show an answer that came while it was still sending),
 * bounded so that an endless body is cut off.
 */
const UNFINISHED_UPLOAD_DRAIN = { maxBytes: 16 * 1024 * 1024, maxMs: 10_000 };

export type Handler = (request: Request, clientAddress: string) => Promise<Response> | Response;

/** Starts the server; resolves once it listens. */
export function serveNodeHttp(
  options: { hostname: string; port: number },
  handler: Handler,
): Promise<void> {
  const server = createServer((incoming, outgoing) => {
    respond(incoming, outgoing, handler).catch(() => outgoing.destroy());
  });
  // An idle keep-alive connection is kept longer than clients keep it in their pools (Deno's
  // fetch: 90 s). node:http's 5 s default closed connections a client then sent a streamed body
  // on, which cannot be retried: the upload failed with a broken pipe.
  server.keepAliveTimeout = 120_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
}

function hasBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers["content-length"];
  return incoming.headers["transfer-encoding"] !== undefined ||
    (length !== undefined && length !== "0");
}

function toRequest(incoming: IncomingMessage, withBody: boolean): Request {
  const host = incoming.headers.host ?? "127.0.0.1";
  const body = withBody ? Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array> : null;
  return new Request(`http://${host}${incoming.url ?? "/"}`, {
    method: incoming.method ?? "GET",
    headers: headersOf(incoming),
    body,
  });
}

function drainedOrClosed(outgoing: ServerResponse): Promise<void> {
  return new Promise((resume) => {
    const done = () => {
      outgoing.off("drain", done);
      outgoing.off("close", done);
      resume();
    };
    outgoing.on("drain", done);
    outgoing.on("close", done);
  });
}

async function respond(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  handler: Handler,
): Promise<void> {
  const withBody = hasBody(incoming);
  let uploadEnded = !withBody;
  incoming.once("end", () => uploadEnded = true);
  const response = await handler(
    toRequest(incoming, withBody),
    incoming.socket.remoteAddress ?? "",
  );
  outgoing.writeHead(response.status, endToEndHeaders(response.headers));
  if (response.body) {
    const reader = response.body.getReader();
    // A client that goes away stops the upstream's body too (an SSE feed would run on).
    outgoing.once("close", () => reader.cancel().catch(() => {}));
    while (true) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done || outgoing.destroyed) break;
      if (!outgoing.write(value)) await drainedOrClosed(outgoing);
    }
  }
  outgoing.end();
  if (!uploadEnded) drainThenClose(incoming);
}

/** The answer came before the upload ended (a 413 at a cap, a 503): drain, within bounds. */
function drainThenClose(incoming: IncomingMessage): void {
  let drained = 0;
  const close = () => incoming.destroy();
  const timer = setTimeout(close, UNFINISHED_UPLOAD_DRAIN.maxMs);
  incoming.on("data", (chunk: Uint8Array) => {
    drained += chunk.length;
    if (drained > UNFINISHED_UPLOAD_DRAIN.maxBytes) close();
  });
  incoming.once("close", () => clearTimeout(timer));
  incoming.resume();
}
