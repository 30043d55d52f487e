/** The pure parts of device authentication; the lookup is tested end to end. */
import { assertEquals } from "@std/assert";
import { deviceCacheKey, deviceKeyFrom, sha256Hex } from "./device_auth.ts";

function request(headers: Record<string, string>): Request {
  return new Request("http://functions.test/telemetry-parse", { method: "POST", headers });
}

Deno.test("deviceKeyFrom reads the key from where the device sent it", async (t) => {
  const cases: [string, Record<string, string>, string | null][] = [
    ["Bearer", { authorization: "Bearer dk_live_abc" }, "dk_live_abc"],
    ["lower-case bearer", { authorization: "bearer dk_live_abc" }, "dk_live_abc"],
    ["Bearer with extra spaces", { authorization: "Bearer    dk_live_abc  " }, "dk_live_abc"],
    ["x-device-key", { "x-device-key": "dk_live_abc" }, "dk_live_abc"],
    ["x-device-key with spaces", { "x-device-key": "  dk_live_abc  " }, "dk_live_abc"],
    [
      "Bearer before x-device-key",
      { authorization: "Bearer dk_bearer", "x-device-key": "dk_header" },
      "dk_bearer",
    ],
    [
      "x-device-key when Authorization is not Bearer",
      { authorization: "Basic dXNlcjpwYXNz", "x-device-key": "dk_header" },
      "dk_header",
    ],
    ["nothing", {}, null],
    ["a Bearer with no key", { authorization: "Bearer " }, null],
    ["a Bearer with two words", { authorization: "Bearer two words" }, null],
    ["a Basic Authorization", { authorization: "Basic dXNlcjpwYXNz" }, null],
  ];
  for (const [name, headers, key] of cases) {
    await t.step(`${name} -> ${key}`, () => {
      assertEquals(deviceKeyFrom(request(headers)), key);
    });
  }
});

Deno.test("sha256Hex matches the FIPS 180-2 vectors in lower-case hex", async (t) => {
  const cases: [string, string][] = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
  ];
  for (const [text, hex] of cases) {
    await t.step(JSON.stringify(text), async () => {
      assertEquals(await sha256Hex(text), hex);
    });
  }
});

Deno.test("sha256Hex hashes the UTF-8 bytes of the text", async () => {
  // `printf '\xc3\xa9' | sha256sum`: the two UTF-8 bytes of "é", not its one UTF-16 unit.
  assertEquals(
    await sha256Hex("\u00e9"),
    "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c",
  );
});

Deno.test("deviceCacheKey keys the device by its key hash under the versioned prefix", () => {
  assertEquals(deviceCacheKey("ab12"), "telemetry:v1:device:ab12");
});
