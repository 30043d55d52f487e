import { assertEquals } from "@std/assert";
import { sseComment, sseEvent } from "./sse.ts";

Deno.test("sseEvent writes id, event, data and retry, ended by a blank line", () => {
  assertEquals(
    sseEvent({ id: "1-0", event: "frame", data: '{"a":1}', retry: 3000 }),
    'id: 1-0\nevent: frame\ndata: {"a":1}\nretry: 3000\n\n',
  );
});

Deno.test("sseEvent splits data over lines and keeps id and event on one line", () => {
  assertEquals(
    sseEvent({ id: "1\n2", event: "a\r\nb", data: "x\ny\r\nz" }),
    "id: 1 2\nevent: a b\ndata: x\ndata: y\ndata: z\n\n",
  );
});

Deno.test("sseComment writes a comment line", () => {
  assertEquals(sseComment("heartbeat"), ": heartbeat\n\n");
});
