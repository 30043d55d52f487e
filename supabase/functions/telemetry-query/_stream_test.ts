import { assertEquals } from "@std/assert";
import { csvField, formatRows } from "./_stream.ts";

Deno.test("csvField() quotes only what RFC 4180 requires and leaves NULL empty", () => {
  assertEquals(
    [null, undefined, 1.5, true, "AUTO", 'a"b', "a,b", "a\nb", { k: "v,w" }].map(csvField),
    ["", "", "1.5", "true", "AUTO", '"a""b"', '"a,b"', '"a\nb"', '"{""k"":""v,w""}"'],
  );
});

Deno.test("csvField() prefixes text that begins like a formula with ' and leaves numbers alone", () => {
  assertEquals(
    ["=1+1", "+1", "-2", "@x", "\tcmd", "\r=1", '=HYPERLINK("a","b")', "a=1", " =1", "'x"].map(
      csvField,
    ),
    [
      "'=1+1",
      "'+1",
      "'-2",
      "'@x",
      "'\tcmd",
      '"\'\r=1"',
      '"\'=HYPERLINK(""a"",""b"")"',
      "a=1",
      " =1",
      "'x",
    ],
  );
  assertEquals([-3.5, -0, 1e-7, false, { k: "=1" }, ["-1"]].map(csvField), [
    "-3.5",
    "0",
    "1e-7",
    "false",
    '"{""k"":""=1""}"',
    '"[""-1""]"',
  ]);
});

Deno.test("formatRows() writes CSV lines in the header's column order, or NDJSON lines", () => {
  const rows = [{ a: 1, b: "x,y" }, { b: null, a: 2 }];
  assertEquals(formatRows("csv", rows, ["a", "b"]), '1,"x,y"\r\n2,\r\n');
  assertEquals(formatRows("ndjson", rows, null), '{"a":1,"b":"x,y"}\n{"b":null,"a":2}\n');
});
