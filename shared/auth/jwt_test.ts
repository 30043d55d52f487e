import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  base64UrlDecode,
  base64UrlEncode,
  type Jwk,
  type JwtClaims,
  JwtError,
  looksLikeJwt,
  signEs256,
  signHs256,
  verifyJwt,
} from "./jwt.ts";

const SECRET = "a-test-secret-that-is-at-least-32-characters";
const NOW = 1_800_000_000;
const CLAIMS: JwtClaims = {
  sub: "11111111-1111-4111-8111-111111111111",
  role: "authenticated",
  iat: NOW - 60,
  exp: NOW + 3600,
};

const text = new TextEncoder();

function segment(value: unknown): string {
  return base64UrlEncode(text.encode(JSON.stringify(value)));
}

/** A fresh P-256 key pair as JWKs, both carrying `kid`. */
async function es256Keys(kid: string): Promise<{ privateJwk: Jwk; publicJwk: Jwk }> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const privateJwk: Jwk = { ...(await crypto.subtle.exportKey("jwk", pair.privateKey)), kid };
  const publicJwk: Jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid };
  return { privateJwk, publicJwk };
}

Deno.test("base64UrlEncode matches the RFC 4648 vectors without padding", async (t) => {
  const cases: [string, string][] = [
    ["", ""],
    ["f", "Zg"],
    ["fo", "Zm8"],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg"],
    ["fooba", "Zm9vYmE"],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, encoded] of cases) {
    await t.step(`"${plain}" -> "${encoded}"`, () => {
      assertEquals(base64UrlEncode(text.encode(plain)), encoded);
      assertEquals(new TextDecoder().decode(base64UrlDecode(encoded)), plain);
    });
  }
});

Deno.test("base64UrlEncode uses - and _ where base64 has + and /", () => {
  assertEquals(base64UrlEncode(new Uint8Array([0xfb, 0xef, 0xbe])), "----");
  assertEquals(base64UrlEncode(new Uint8Array([0xff, 0xff, 0xff])), "____");
  assertEquals(base64UrlEncode(new Uint8Array([0xfb, 0xff])), "-_8");
});

Deno.test("base64UrlDecode round-trips every byte value", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  assertEquals(base64UrlDecode(base64UrlEncode(bytes)), bytes);
});

Deno.test("base64UrlDecode throws JwtError when the text has padding or base64 characters", async (t) => {
  for (const bad of ["Zm9v=", "Zm+v", "Zm/v", "Zm 9v", "Zm9v\n"]) {
    await t.step(JSON.stringify(bad), () => {
      assertThrows(() => base64UrlDecode(bad), JwtError, "Token segment is not base64url");
    });
  }
});

Deno.test("signHs256 reproduces the jwt.io example token", async () => {
  const token = await signHs256(
    { sub: "1234567890", name: "John Doe", iat: 1516239022 },
    "your-256-bit-secret",
  );
  assertEquals(
    token,
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ." +
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
  );
});

Deno.test("verifyJwt returns the claims of an HS256 token signed with the same secret", async () => {
  const token = await signHs256({ ...CLAIMS, custom: { nested: [1, 2] } }, SECRET);
  assertEquals(await verifyJwt(token, { hs256Secret: SECRET }, NOW), {
    ...CLAIMS,
    custom: { nested: [1, 2] },
  });
});

Deno.test("verifyJwt accepts a token without exp at any time", async () => {
  const token = await signHs256({ role: "anon" }, SECRET);
  assertEquals(await verifyJwt(token, { hs256Secret: SECRET }, 9_999_999_999), { role: "anon" });
});

Deno.test("verifyJwt returns the claims of an ES256 token whose kid is in the JWKS", async () => {
  const { privateJwk, publicJwk } = await es256Keys("key-1");
  const other = await es256Keys("key-2");
  const token = await signEs256(CLAIMS, privateJwk);
  const [head = ""] = token.split(".");
  assertEquals(JSON.parse(new TextDecoder().decode(base64UrlDecode(head))), {
    alg: "ES256",
    typ: "JWT",
    kid: "key-1",
  });
  assertEquals(await verifyJwt(token, { jwks: [other.publicJwk, publicJwk] }, NOW), CLAIMS);
});

Deno.test("verifyJwt ignores d when a private JWK is given as a verification key", async () => {
  const { privateJwk } = await es256Keys("key-1");
  const token = await signEs256(CLAIMS, privateJwk);
  // WebCrypto exports key_ops ["sign"], which no key may be imported for "verify" with.
  const { key_ops: _ops, ...withoutOps } = privateJwk;
  assertEquals(await verifyJwt(token, { jwks: [withoutOps] }, NOW), CLAIMS);
});

Deno.test("verifyJwt tries every EC key when an ES256 token has no kid", async () => {
  const { privateJwk, publicJwk } = await es256Keys("key-1");
  const other = await es256Keys("key-2");
  const { kid: _kid, ...anonymousKey } = privateJwk;
  const token = await signEs256(CLAIMS, anonymousKey);
  assertEquals(await verifyJwt(token, { jwks: [other.publicJwk, publicJwk] }, NOW), CLAIMS);
});

Deno.test("verifyJwt rejects with JwtError naming the problem", async (t) => {
  const hs = await signHs256(CLAIMS, SECRET);
  const [hsHead = "", hsBody = "", hsSig = ""] = hs.split(".");
  const { privateJwk, publicJwk } = await es256Keys("key-1");
  const impostor = await es256Keys("key-1");
  const es = await signEs256(CLAIMS, privateJwk);
  const [esHead = "", , esSig = ""] = es.split(".");
  const hsKeys = { hs256Secret: SECRET };
  const esKeys = { jwks: [publicJwk] };

  const cases: { name: string; token: string; keys: object; now?: number; message: string }[] = [
    {
      name: "HS256 signed with another secret",
      token: await signHs256(CLAIMS, `${SECRET}-other`),
      keys: hsKeys,
      message: "Token signature is invalid",
    },
    {
      name: "HS256 payload tampered",
      token: `${hsHead}.${segment({ ...CLAIMS, role: "service_role" })}.${hsSig}`,
      keys: hsKeys,
      message: "Token signature is invalid",
    },
    {
      name: "HS256 signature of another token",
      token: `${hsHead}.${hsBody}.${(await signHs256({}, SECRET)).split(".")[2]}`,
      keys: hsKeys,
      message: "Token signature is invalid",
    },
    {
      name: "HS256 when no secret is configured",
      token: hs,
      keys: esKeys,
      message: "HS256 tokens are not accepted here",
    },
    {
      name: "HS256 expired",
      token: await signHs256({ ...CLAIMS, exp: NOW - 1 }, SECRET),
      keys: hsKeys,
      message: "Token has expired",
    },
    {
      name: "HS256 expiring exactly now",
      token: hs,
      keys: hsKeys,
      now: NOW + 3600,
      message: "Token has expired",
    },
    {
      name: "ES256 payload tampered",
      token: `${esHead}.${segment({ ...CLAIMS, sub: "someone-else" })}.${esSig}`,
      keys: esKeys,
      message: "Token signature is invalid",
    },
    {
      name: "ES256 signed by another key with the same kid",
      token: await signEs256(CLAIMS, impostor.privateJwk),
      keys: esKeys,
      message: "Token signature is invalid",
    },
    {
      name: "ES256 kid not in the JWKS",
      token: await signEs256(CLAIMS, { ...privateJwk, kid: "key-9" }),
      keys: esKeys,
      message: "No key matches the token's kid",
    },
    {
      name: "ES256 with no JWKS",
      token: es,
      keys: hsKeys,
      message: "No key matches the token's kid",
    },
    {
      name: "ES256 with only non-EC keys",
      token: es,
      keys: { jwks: [{ kty: "oct", kid: "key-1", k: "AAAA" }] },
      message: "No key matches the token's kid",
    },
    {
      name: "ES256 expired",
      token: await signEs256({ ...CLAIMS, exp: NOW - 1 }, privateJwk),
      keys: esKeys,
      message: "Token has expired",
    },
    {
      name: "alg none",
      token: `${segment({ alg: "none", typ: "JWT" })}.${hsBody}.`,
      keys: hsKeys,
      message: 'Token algorithm "none" is not accepted',
    },
    {
      name: "alg RS256",
      token: `${segment({ alg: "RS256", typ: "JWT" })}.${hsBody}.${hsSig}`,
      keys: hsKeys,
      message: 'Token algorithm "RS256" is not accepted',
    },
    {
      name: "no alg",
      token: `${segment({ typ: "JWT" })}.${hsBody}.${hsSig}`,
      keys: hsKeys,
      message: 'Token algorithm "undefined" is not accepted',
    },
    {
      name: "two segments",
      token: `${hsHead}.${hsBody}`,
      keys: hsKeys,
      message: "Token is not a JWT",
    },
    {
      name: "four segments",
      token: `${hs}.${hsSig}`,
      keys: hsKeys,
      message: "Token is not a JWT",
    },
    { name: "empty string", token: "", keys: hsKeys, message: "Token is not a JWT" },
    {
      name: "header not base64url",
      token: `${hsHead}+.${hsBody}.${hsSig}`,
      keys: hsKeys,
      message: "Token header is not a JSON object",
    },
    {
      name: "header a JSON string",
      token: `${segment("HS256")}.${hsBody}.${hsSig}`,
      keys: hsKeys,
      message: "Token header is not a JSON object",
    },
    {
      name: "payload not JSON",
      token: `${hsHead}.${base64UrlEncode(text.encode("not json"))}.${hsSig}`,
      keys: hsKeys,
      message: "Token payload is not a JSON object",
    },
    {
      name: "payload a JSON array",
      token: `${hsHead}.${segment([CLAIMS])}.${hsSig}`,
      keys: hsKeys,
      message: "Token payload is not a JSON object",
    },
    {
      name: "payload null",
      token: `${hsHead}.${segment(null)}.${hsSig}`,
      keys: hsKeys,
      message: "Token payload is not a JSON object",
    },
    {
      name: "empty payload",
      token: `${hsHead}..${hsSig}`,
      keys: hsKeys,
      message: "Token payload is not a JSON object",
    },
    {
      name: "signature not base64url",
      token: `${hsHead}.${hsBody}.${hsSig.slice(0, -2)}==`,
      keys: hsKeys,
      message: "Token segment is not base64url",
    },
  ];
  for (const { name, token, keys, now = NOW, message } of cases) {
    await t.step(`when ${name}`, async () => {
      await assertRejects(() => verifyJwt(token, keys, now), JwtError, message);
    });
  }
});

Deno.test("looksLikeJwt tells three base64url segments from other keys", async (t) => {
  const cases: [string, boolean][] = [
    ["aaa.bbb.ccc", true],
    ["a-_.B_-.c-_", true],
    ["aaa.bbb.", true],
    ["aaa.bbb", false],
    ["aaa..ccc", false],
    [".bbb.ccc", false],
    ["aaa.bbb.ccc.ddd", false],
    ["aaa.b+b.ccc", false],
    ["aaa.bbb.ccc ", false],
    ["sb_publishable_abcdefghijklmnop", false],
    ["sb_secret_abcdefghijklmnop", false],
    ["", false],
  ];
  for (const [value, expected] of cases) {
    await t.step(`${JSON.stringify(value)} -> ${expected}`, () => {
      assertEquals(looksLikeJwt(value), expected);
    });
  }
});

Deno.test("base64UrlDecode throws JwtError for a length no base64 text can have", () => {
  assertThrows(() => base64UrlDecode("A"), JwtError, "not base64url");
});

Deno.test("verifyJwt accepts a WebCrypto-exported private key (with key_ops) as a verification key", async () => {
  const { privateJwk } = await es256Keys("k-ops");
  const token = await signEs256(CLAIMS, privateJwk);
  assertEquals(await verifyJwt(token, { jwks: [privateJwk] }, NOW), CLAIMS);
});

Deno.test("verifyJwt skips a malformed EC key and tries the others", async () => {
  const { privateJwk, publicJwk } = await es256Keys("good");
  const token = await signEs256(CLAIMS, { ...privateJwk, kid: undefined as unknown as string });
  const broken: Jwk = { kty: "EC", crv: "P-256", kid: "broken" };
  assertEquals(await verifyJwt(token, { jwks: [broken, publicJwk] }, NOW), CLAIMS);
});
