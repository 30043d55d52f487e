// deno-lint-ignore-file no-console -- a benchmark's helper process: its one line says it listens
/**
 * The runtime's floor for a streamed body, beside bench:stream's function: a bare `Deno.serve`
 * that only reads each request body chunk by chunk to its end and answers how many bytes and
 * reads it took. bench:stream runs it with the function processes' own V8 flags and sends it the
 * same device stream, so the CPU of this process is what the runtime alone costs to receive that
 * stream: no parsing, no storing, no per-step CPU accounting.
 * Usage: deno run --allow-net stream_floor_server.ts <port>   (prints "listening" when ready)
 */
const port = Number(Deno.args[0]);
if (!port) throw new Error("Usage: stream_floor_server.ts <port>");

Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => console.log("listening") },
  async (request) => {
    let bytes = 0;
    let reads = 0;
    for await (const chunk of request.body ?? new ReadableStream<Uint8Array>()) {
      bytes += chunk.length;
      reads++;
    }
    return Response.json({ bytes, reads });
  },
);
