// deno-lint-ignore-file no-console -- a benchmark's helper process: its one line is its port
/**
 * The runtime's floor for a streamed body, beside bench:stream's function: a bare `Deno.serve`
 * that only reads each request body chunk by chunk to its end, then answers 204. bench:stream runs
 * it with the function processes' own V8 flags and sends it the same device stream, so the CPU of
 * this process is what the runtime alone costs to receive that stream: no parsing, no storing, no
 * per-step CPU accounting.
 * Usage: deno run --allow-net stream_floor_server.ts   (prints the port it listens on)
 */
Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(port) },
  async (request) => {
    for await (const _chunk of request.body ?? new ReadableStream<Uint8Array>()) {
      // Read only: the chunk is dropped.
    }
    return new Response(null, { status: 204 });
  },
);
