/**
 * The local gateway's request to PostgREST or a function, over `node:http` instead of `fetch`.
 *
 * Why not `fetch`: given a streamed body, Deno's fetch drops a declared Content-Length and sends
 * the body chunked, so a function could no longer refuse an oversized body (or one that would not
 * fit its isolate's admission budget) before reading it, as it does behind Supabase's gateway.
 * node:http sends the header the client declared and streams the body under it.
 */
import { type IncomingMessage, request as httpRequest } from "node:http";
import { Readable } from "node:stream";
import { endToEndHeaders, headersOf } from "./node_http_headers.ts";

/**
 * Sends the request and resolves with the upstream's answer as soon as its head arrives.
 * An upstream that answers before the body has been sent (a 413 at a cap, a 503) gets no more of
 * it, and the connection is closed once its answer has been read: it cannot be reused.
 * @throws when the upstream cannot be reached
 */
export function sendUpstream(
  target: URL,
  method: string,
  headers: Headers,
  body: ReadableStream<Uint8Array> | null,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(target, { method, headers: endToEndHeaders(headers) });
    const source = body ? Readable.fromWeb(body as never) : null;
    let bodySent = source === null;
    outgoing.once("error", reject);
    outgoing.once("response", (incoming: IncomingMessage) => {
      if (!bodySent) source?.unpipe(outgoing);
      incoming.once("end", () => {
        if (!bodySent) outgoing.destroy();
      });
      const status = incoming.statusCode ?? 502;
      const noBody = status === 204 || status === 304 || method === "HEAD";
      if (noBody) incoming.resume();
      resolve(
        new Response(noBody ? null : Readable.toWeb(incoming) as unknown as ReadableStream, {
          status,
          headers: headersOf(incoming),
        }),
      );
    });
    if (source) {
      source.once("end", () => bodySent = true);
      source.once("error", (error) => outgoing.destroy(error));
      source.pipe(outgoing);
    } else {
      outgoing.end();
    }
  });
}
