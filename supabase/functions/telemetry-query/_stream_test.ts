import { assertEquals } from "@std/assert";
import { csvField, formatRows } from "./_stream.ts";

Deno.test("csvField() quotes only what RFC 4180 requires and leaves NULL empty", () => {
  assertEquals(
    [null, undefined, 1.5, true, "AUTO", 'a"b', "a,b", "a\nb", { k: "v,w" }].map(csvField),
    ["", "", "1.5", "true", "AUTO", '"a""b"', '"a,b"', '"a\nb"', '"{""k"":""v,w""}"'],
  );
});

Deno.test("formatRows() writes CSV lines in the header's column order, or NDJSON lines", () => {
  const rows = [{ a: 1, b: "x,y" }, { b: null, a: 2 }];
  assertEquals(formatRows("csv", rows, ["a", "b"]), '1,"x,y"\r\n2,\r\n');
  assertEquals(formatRows("ndjson", rows, null), '{"a":1,"b":"x,y"}\n{"b":null,"a":2}\n');
});
