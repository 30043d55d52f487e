import { assertEquals, assertRejects } from "@std/assert";
import {
  base64UrlEncode,
  createJwtVerifier,
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
const ISSUER = "https://ref.supabase.co/auth/v1";
const CLAIMS: JwtClaims = {
  sub: "11111111-1111-4111-8111-111111111111",
  role: "authenticated",
  aud: "authenticated",
  iss: ISSUER,
  iat: NOW - 60,
  exp: NOW + 3600,
};
/** A hosted project's legacy anon key: no aud, iss "supabase". */
const LEGACY_ANON: JwtClaims = { iss: "supabase", ref: "ref", role: "anon", iat: 1, exp: NOW + 9 };

const text = new TextEncoder();

function segment(value: unknown): string {
  return base64UrlEncode(text.encode(JSON.stringify(value)));
}

function decodeSegment(value: string): unknown {
  const base64 = value.replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)));
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

Deno.test("base64UrlEncode uses - and _ where base64 has + and /, without padding", () => {
  assertEquals(base64UrlEncode(new Uint8Array([0xfb, 0xef, 0xbe])), "----");
  assertEquals(base64UrlEncode(new Uint8Array([0xff, 0xff, 0xff])), "____");
  assertEquals(base64UrlEncode(new Uint8Array([0xfb, 0xff])), "-_8");
  assertEquals(base64UrlEncode(text.encode("foob")), "Zm9vYg");
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

Deno.test("verifyJwt returns the claims of an HS256 user token signed with the same secret", async () => {
  const token = await signHs256({ ...CLAIMS, custom: { nested: [1, 2] } }, SECRET);
  assertEquals(await verifyJwt(token, { hs256Secret: SECRET, issuers: [ISSUER] }, NOW), {
    ...CLAIMS,
    custom: { nested: [1, 2] },
  });
});

Deno.test("verifyJwt accepts legacy anon and service_role keys, which carry no aud", async () => {
  for (const role of ["anon", "service_role"]) {
    const token = await signHs256({ ...LEGACY_ANON, role }, SECRET);
    const keys = { hs256Secret: SECRET, issuers: [ISSUER, "supabase"] };
    assertEquals(await verifyJwt(token, keys, NOW), { ...LEGACY_ANON, role });
  }
});

Deno.test("verifyJwt accepts a user token whose aud is a list holding authenticated", async () => {
  const claims = { ...CLAIMS, aud: ["other", "authenticated"] };
  const token = await signHs256(claims, SECRET);
  assertEquals(await verifyJwt(token, { hs256Secret: SECRET }, NOW), claims);
});

Deno.test("verifyJwt returns the claims of an ES256 token whose kid is in the JWKS", async () => {
  const { privateJwk, publicJwk } = await es256Keys("key-1");
  const other = await es256Keys("key-2");
  const token = await signEs256(CLAIMS, privateJwk);
  assertEquals(decodeSegment(token.split(".")[0]!), { alg: "ES256", typ: "JWT", kid: "key-1" });
  assertEquals(await verifyJwt(token, { jwks: [other.publicJwk, publicJwk] }, NOW), CLAIMS);
});

Deno.test("verifyJwt uses only the public part of a private JWK given as a verification key", async () => {
  // A WebCrypto export carries d and key_ops ["sign"]: neither may stop it verifying.
  const { privateJwk } = await es256Keys("k-ops");
  const token = await signEs256(CLAIMS, privateJwk);
  assertEquals(await verifyJwt(token, { jwks: [privateJwk] }, NOW), CLAIMS);
});

Deno.test("verifyJwt tries every EC key when an ES256 token has no kid", async () => {
  const { privateJwk, publicJwk } = await es256Keys("key-1");
  const other = await es256Keys("key-2");
  const { kid: _kid, ...anonymousKey } = privateJwk;
  const token = await signEs256(CLAIMS, anonymousKey);
  assertEquals(await verifyJwt(token, { jwks: [other.publicJwk, publicJwk] }, NOW), CLAIMS);
});

Deno.test("a verifier fetches a JWKS URL for a kid it lacks, then keeps it", async () => {
  const { privateJwk, publicJwk } = await es256Keys("remote-1");
  let fetches = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    fetches++;
    return Response.json({ keys: [publicJwk] });
  });
  try {
    const verify = createJwtVerifier({
      jwks: [(await es256Keys("local-1")).publicJwk],
      jwksUrl: `http://127.0.0.1:${server.addr.port}/auth/v1/.well-known/jwks.json`,
    });
    const token = await signEs256(CLAIMS, privateJwk);
    assertEquals(await verify(token, NOW), CLAIMS);
    assertEquals(await verify(token, NOW), CLAIMS);
    assertEquals(fetches, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("verifyJwt refuses with a JwtError naming the problem", async (t) => {
  const hs = await signHs256(CLAIMS, SECRET);
  const [hsHead = "", hsBody = "", hsSig = ""] = hs.split(".");
  const { privateJwk, publicJwk } = await es256Keys("key-1");
  const impostor = await es256Keys("key-1");
  const es = await signEs256(CLAIMS, privateJwk);
  const [esHead = "", , esSig = ""] = es.split(".");
  const hsKeys = { hs256Secret: SECRET, issuers: [ISSUER, "supabase"] };
  const esKeys = { jwks: [publicJwk] };
  const { exp: _exp, ...withoutExp } = CLAIMS;
  const { aud: _aud, ...withoutAud } = CLAIMS;
  const { iss: _iss, ...withoutIss } = LEGACY_ANON;

  const cases: { name: string; token: string; keys: object; now?: number; message: string }[] = [
    {
      name: "expired",
      token: await signHs256({ ...CLAIMS, exp: NOW - 1 }, SECRET),
      keys: hsKeys,
      message: "Token has expired",
    },
    { name: "expiring exactly now", token: hs, keys: hsKeys, now: NOW + 3600, message: "expired" },
    {
      name: "without exp",
      token: await signHs256(withoutExp, SECRET),
      keys: hsKeys,
      message: "Token has no valid exp claim",
    },
    {
      name: "a legacy key without exp",
      token: await signHs256({ role: "anon", iss: "supabase" }, SECRET),
      keys: hsKeys,
      message: "Token has no valid exp claim",
    },
    {
      name: "exp not a number",
      token: await signHs256({ ...CLAIMS, exp: "never" } as unknown as JwtClaims, SECRET),
      keys: hsKeys,
      message: "Token has no valid exp claim",
    },
    {
      name: "a user token for another audience",
      token: await signHs256({ ...CLAIMS, aud: "anon" }, SECRET),
      keys: hsKeys,
      message: 'Token audience (aud) is not "authenticated"',
    },
    {
      name: "a user token without aud",
      token: await signHs256(withoutAud, SECRET),
      keys: hsKeys,
      message: 'Token audience (aud) is not "authenticated"',
    },
    {
      name: "a token of another role without aud",
      token: await signHs256({ ...withoutAud, role: "supabase_admin" }, SECRET),
      keys: hsKeys,
      message: 'Token audience (aud) is not "authenticated"',
    },
    {
      name: "an issuer not configured",
      token: await signHs256({ ...CLAIMS, iss: "https://other.supabase.co/auth/v1" }, SECRET),
      keys: hsKeys,
      message: "Token issuer (iss) is not accepted",
    },
    {
      name: "no issuer when issuers are configured",
      token: await signHs256(withoutIss, SECRET),
      keys: hsKeys,
      message: "Token issuer (iss) is not accepted",
    },
    {
      name: "nbf in the future",
      token: await signHs256({ ...CLAIMS, nbf: NOW + 60 }, SECRET),
      keys: hsKeys,
      message: "Token is not valid yet (nbf)",
    },
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
      message: 'Token algorithm "HS256" is not accepted',
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
      message: 'Token algorithm "ES256" is not accepted',
    },
    {
      name: "ES256 with only non-EC keys",
      token: es,
      keys: { hs256Secret: SECRET, jwks: [{ kty: "oct", kid: "key-1", k: "AAAA" }] },
      message: 'Token algorithm "ES256" is not accepted',
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
      name: "alg HS512 signed with the secret",
      token: `${segment({ alg: "HS512", typ: "JWT" })}.${hsBody}.${hsSig}`,
      keys: hsKeys,
      message: 'Token algorithm "HS512" is not accepted',
    },
    {
      name: "no alg",
      token: `${segment({ typ: "JWT" })}.${hsBody}.${hsSig}`,
      keys: hsKeys,
      message: "Token is not a valid JWT",
    },
    { name: "two segments", token: `${hsHead}.${hsBody}`, keys: hsKeys, message: "not a JWT" },
    { name: "four segments", token: `${hs}.${hsSig}`, keys: hsKeys, message: "not a" },
    { name: "empty string", token: "", keys: hsKeys, message: "Token is not a JWT" },
    {
      name: "header not base64url",
      token: `${hsHead}+.${hsBody}.${hsSig}`,
      keys: hsKeys,
      message: "Token is not a valid JWT",
    },
    {
      name: "payload not JSON",
      token: `${hsHead}.${base64UrlEncode(text.encode("not json"))}.${hsSig}`,
      keys: hsKeys,
      message: "Token is not a JWT",
    },
    {
      name: "payload a JSON array",
      token: `${hsHead}.${segment([CLAIMS])}.${hsSig}`,
      keys: hsKeys,
      message: "Token is not a JWT",
    },
    {
      name: "signature not base64url",
      token: `${hsHead}.${hsBody}.${hsSig.slice(0, -2)}==`,
      keys: hsKeys,
      message: "Token is not a valid JWT",
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

Deno.test("verifyJwt skips a malformed EC key and tries the others", async () => {
  const { privateJwk, publicJwk } = await es256Keys("good");
  const token = await signEs256(CLAIMS, { ...privateJwk, kid: undefined as unknown as string });
  const broken: Jwk = { kty: "EC", crv: "P-256", kid: "broken" };
  assertEquals(await verifyJwt(token, { jwks: [broken, publicJwk] }, NOW), CLAIMS);
});
