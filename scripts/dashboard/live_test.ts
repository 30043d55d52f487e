import { assertEquals } from "@std/assert";
import { createApi } from "./api.js";
import { followLive } from "./live.js";

/** A live stream as telemetry-live writes it: a frame, a gap, another frame, then its end. */
const STREAM = [
  'id: 1-0/0\nevent: frame\ndata: {"roll_degrees":1}\n\n',
  'id: 2-0\nevent: gap\ndata: {"after":"1-0/0","skipped":3}\n\n',
  'id: 3-0/0\nevent: frame\ndata: {"roll_degrees":2}\n\n',
  "retry: 1\n\n",
].join("");

Deno.test("followLive hands a gap on without leaving the live state, and frames keep coming", async () => {
  const seen: string[] = [];
  const watch = new AbortController();
  const lastEventIds: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    lastEventIds.push(request.headers.get("last-event-id"));
    // The second connection is the reconnect after the stream ended: stop there.
    if (lastEventIds.length > 1) watch.abort();
    return new Response(STREAM, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    await followLive(createApi(`http://127.0.0.1:${server.addr.port}`, "token"), "device-1", {
      onFrame: (frame) => seen.push(`frame ${frame.roll_degrees}`),
      onStatus: (state) => seen.push(state),
      onGap: (detail) => seen.push(`gap ${JSON.parse(detail).skipped}`),
      signal: watch.signal,
    });
  } finally {
    await server.shutdown();
  }
  assertEquals(seen.slice(0, 4), ["live", "frame 1", "gap 3", "frame 2"]);
  // It reconnects after the last event it got.
  assertEquals(lastEventIds, [null, "3-0/0"]);
});
