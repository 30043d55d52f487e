import { assertEquals } from "@std/assert";
import { type Caller, constantTimeEqual, identifyCaller, requireRole } from "./operator_auth.ts";
import { loadConfig } from "../platform/config.ts";
import { HttpError } from "../platform/http.ts";
import { type Jwk, type JwtClaims, signEs256, signHs256 } from "./jwt.ts";

const SECRET = "a-test-secret-that-is-at-least-32-characters";
const NOW = 1_800_000_000;
const USER = "11111111-1111-4111-8111-111111111111";
const PUBLISHABLE = "sb_publishable_test";
const SECRET_KEY = "sb_secret_test";
const ISSUER = "http://127.0.0.1:54321/auth/v1";

const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
  "sign",
  "verify",
]);
const PRIVATE_JWK: Jwk = { ...(await crypto.subtle.exportKey("jwk", pair.privateKey)), kid: "k1" };
const PUBLIC_JWK: Jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid: "k1" };

const CONFIG = loadConfig({
  SUPABASE_URL: "http://127.0.0.1:54321",
  SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: PUBLISHABLE }),
  SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
  SUPABASE_JWT_SECRET: SECRET,
  SUPABASE_JWKS: JSON.stringify({ keys: [PUBLIC_JWK] }),
  SUPABASE_JWT_ISSUERS: `${ISSUER},supabase`,
});

/** Claims as Supabase Auth issues them (aud, iss, exp), with the test's own on top. */
const claims = (extra: JwtClaims): JwtClaims => ({
  aud: "authenticated",
  iss: ISSUER,
  iat: NOW - 60,
  exp: NOW + 3600,
  ...extra,
});

function base64Url(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function request(headers: Record<string, string>): Request {
  return new Request("http://functions.test/config", { headers });
}

async function identify(headers: Record<string, string>): Promise<Caller> {
  return await identifyCaller(request(headers), CONFIG, NOW);
}

/** The status, code and message identifyCaller refuses with. */
async function refusal(headers: Record<string, string>) {
  try {
    await identify(headers);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code, message: error.message };
  }
  throw new Error("identifyCaller accepted the credential");
}

Deno.test("identifyCaller returns the user of a legacy HS256 user JWT", async () => {
  const token = await signHs256(claims({ sub: USER, role: "authenticated" }), SECRET);
  assertEquals(await identify({ authorization: `Bearer ${token}` }), {
    role: "authenticated",
    userId: USER,
    token,
  });
});

Deno.test("identifyCaller returns the user of an ES256 user JWT signed with a JWKS key", async () => {
  const token = await signEs256(claims({ sub: USER, role: "authenticated" }), PRIVATE_JWK);
  assertEquals(await identify({ authorization: `Bearer ${token}` }), {
    role: "authenticated",
    userId: USER,
    token,
  });
});

Deno.test("identifyCaller reads the Bearer scheme case-insensitively", async () => {
  const token = await signHs256(claims({ sub: USER, role: "authenticated" }), SECRET);
  assertEquals((await identify({ authorization: `bearer   ${token}` })).userId, USER);
});

Deno.test("identifyCaller returns service_role with the token for a service_role JWT", async () => {
  const token = await signHs256(claims({ role: "service_role" }), SECRET);
  assertEquals(await identify({ authorization: `Bearer ${token}` }), {
    role: "service_role",
    userId: null,
    token,
  });
});

Deno.test("identifyCaller accepts hosted legacy anon and service_role keys, which have no aud", async () => {
  for (const role of ["anon", "service_role"] as const) {
    const token = await signHs256(
      { iss: "supabase", ref: "abcdefghijklmnopqrst", role, iat: NOW - 86400, exp: NOW + 86400 },
      SECRET,
    );
    assertEquals((await identify({ authorization: `Bearer ${token}` })).role, role);
  }
});

Deno.test("identifyCaller returns anon with the token for an anon JWT", async () => {
  const token = await signHs256(claims({ role: "anon" }), SECRET);
  assertEquals(await identify({ authorization: `Bearer ${token}` }), {
    role: "anon",
    userId: null,
    token,
  });
});

Deno.test("identifyCaller returns service_role with the service key for a secret key", async (t) => {
  const expected: Caller = { role: "service_role", userId: null, token: SECRET_KEY };
  await t.step("in apikey", async () => {
    assertEquals(await identify({ apikey: SECRET_KEY }), expected);
  });
  await t.step("as Bearer", async () => {
    assertEquals(await identify({ authorization: `Bearer ${SECRET_KEY}` }), expected);
  });
});

Deno.test("identifyCaller takes the Bearer key before the apikey when both are keys", async () => {
  assertEquals(
    await identify({ authorization: `Bearer ${PUBLISHABLE}`, apikey: SECRET_KEY }),
    { role: "anon", userId: null, token: PUBLISHABLE },
  );
});

Deno.test("identifyCaller returns anon with the anon key for a publishable key", async (t) => {
  const expected: Caller = { role: "anon", userId: null, token: PUBLISHABLE };
  await t.step("in apikey", async () => {
    assertEquals(await identify({ apikey: PUBLISHABLE }), expected);
  });
  await t.step("as Bearer", async () => {
    assertEquals(await identify({ authorization: `Bearer ${PUBLISHABLE}` }), expected);
  });
});

Deno.test("identifyCaller prefers a user JWT over the apikey sent beside it", async () => {
  const token = await signHs256(claims({ sub: USER, role: "authenticated" }), SECRET);
  assertEquals(await identify({ authorization: `Bearer ${token}`, apikey: PUBLISHABLE }), {
    role: "authenticated",
    userId: USER,
    token,
  });
});

Deno.test("identifyCaller takes a configured legacy anon key as a key, not a token", async () => {
  const anonJwt = await signHs256(
    { role: "anon", iat: 1, exp: NOW + 60 },
    "another-secret-of-at-least-32-chars!",
  );
  const config = loadConfig({
    SUPABASE_URL: "http://127.0.0.1:54321",
    SUPABASE_ANON_KEY: anonJwt,
    SUPABASE_SERVICE_ROLE_KEY: "legacy-service-key",
    SUPABASE_JWT_SECRET: SECRET,
  });
  const caller = await identifyCaller(
    request({ authorization: `Bearer ${anonJwt}` }),
    config,
    NOW,
  );
  assertEquals(caller, { role: "anon", userId: null, token: anonJwt });
});

Deno.test("identifyCaller refuses with 401", async (t) => {
  const expired = await signHs256(
    claims({ sub: USER, role: "authenticated", exp: NOW - 1 }),
    SECRET,
  );
  const wrongSecret = await signHs256(
    claims({ sub: USER, role: "authenticated" }),
    `${SECRET}-other`,
  );
  const otherPair = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  const wrongKey = await signEs256(claims({ sub: USER, role: "authenticated" }), {
    ...(await crypto.subtle.exportKey("jwk", otherPair.privateKey)),
    kid: "k1",
  });
  const { exp: _exp, ...withoutExp } = claims({ sub: USER, role: "authenticated" });
  const user = (extra: JwtClaims) =>
    signHs256(claims({ sub: USER, role: "authenticated", ...extra }), SECRET);
  const invalid = (reason: string) => `Authorization token is not valid: ${reason}`;
  const cases: {
    name: string;
    headers: Record<string, string>;
    code: string;
    message: string;
  }[] = [
    {
      name: "no credential is sent",
      headers: {},
      code: "missing_credentials",
      message: "Send an operator JWT as Authorization: Bearer, or an API key in the apikey header",
    },
    {
      name: "the Authorization scheme is not Bearer",
      headers: { authorization: `Basic ${btoa("user:password")}` },
      code: "missing_credentials",
      message: "Send an operator JWT as Authorization: Bearer, or an API key in the apikey header",
    },
    {
      name: "the apikey is unknown",
      headers: { apikey: "sb_secret_guessed" },
      code: "invalid_api_key",
      message: "API key is not valid",
    },
    {
      name: "the Bearer key is unknown",
      headers: { authorization: "Bearer garbage" },
      code: "invalid_token",
      message: "Authorization token is not a valid operator credential",
    },
    {
      name: "the Bearer is unknown even though the apikey is the publishable key",
      headers: { authorization: "Bearer sb_secret_guessed", apikey: PUBLISHABLE },
      code: "invalid_token",
      message: "Authorization token is not a valid operator credential",
    },
    {
      name: "the Bearer is a device key beside the publishable key",
      headers: { authorization: `Bearer dtk_${"a1".repeat(24)}`, apikey: PUBLISHABLE },
      code: "invalid_token",
      message: "Authorization token is a device key, which only telemetry-parse takes; send an " +
        "operator JWT or a secret key",
    },
    {
      name: "the key differs from a secret key in its last character",
      headers: { apikey: `${SECRET_KEY.slice(0, -1)}x` },
      code: "invalid_api_key",
      message: "API key is not valid",
    },
    {
      name: "the JWT is signed with another secret",
      headers: { authorization: `Bearer ${wrongSecret}` },
      code: "invalid_token",
      message: "Authorization token is not valid: Token signature is invalid",
    },
    {
      name: "the JWT has expired",
      headers: { authorization: `Bearer ${expired}` },
      code: "invalid_token",
      message: "Authorization token is not valid: Token has expired",
    },
    {
      name: "the JWT is malformed",
      headers: { authorization: "Bearer abc.def.ghi" },
      code: "invalid_token",
      message: invalid("Token is not a JWT"),
    },
    {
      name: "the JWT has no exp",
      headers: { authorization: `Bearer ${await signHs256(withoutExp, SECRET)}` },
      code: "invalid_token",
      message: invalid("Token has no valid exp claim"),
    },
    {
      name: "a user JWT is for another audience",
      headers: { authorization: `Bearer ${await user({ aud: "service" })}` },
      code: "invalid_token",
      message: invalid('Token audience (aud) is not "authenticated"'),
    },
    {
      name: "the JWT's issuer is not configured",
      headers: { authorization: `Bearer ${await user({ iss: "https://evil.example/auth/v1" })}` },
      code: "invalid_token",
      message: invalid("Token issuer (iss) is not accepted"),
    },
    {
      name: "the JWT is not valid before a time in the future",
      headers: { authorization: `Bearer ${await user({ nbf: NOW + 120 })}` },
      code: "invalid_token",
      message: invalid("Token is not valid yet (nbf)"),
    },
    {
      name: "the JWT has alg none",
      headers: {
        authorization: `Bearer ${base64Url({ alg: "none", typ: "JWT" })}.${
          base64Url(claims({ sub: USER, role: "service_role" }))
        }.`,
      },
      code: "invalid_token",
      message: invalid('Token algorithm "none" is not accepted'),
    },
    {
      name: "the JWT is signed by a key that is not the project's",
      headers: { authorization: `Bearer ${wrongKey}` },
      code: "invalid_token",
      message: invalid("Token signature is invalid"),
    },
    {
      name: "the JWT is bad even though the apikey is good",
      headers: { authorization: `Bearer ${expired}`, apikey: SECRET_KEY },
      code: "invalid_token",
      message: "Authorization token is not valid: Token has expired",
    },
  ];
  for (const { name, headers, code, message } of cases) {
    await t.step(`when ${name}`, async () => {
      assertEquals(await refusal(headers), { status: 401, code, message });
    });
  }
});

Deno.test("identifyCaller refuses with 401 when the JWT's role is not accepted", async (t) => {
  // Claims as a forged token may carry them, not as JwtClaims types them.
  const noSub = "Token of role authenticated has no sub claim";
  const cases: [string, Record<string, unknown>, string][] = [
    ["authenticated without sub", { role: "authenticated" }, noSub],
    ["authenticated with an empty sub", { role: "authenticated", sub: "" }, noSub],
    ["authenticated with a numeric sub", { role: "authenticated", sub: 7 }, noSub],
    [
      "supabase_admin",
      { role: "supabase_admin", sub: USER },
      'Token role "supabase_admin" is not accepted',
    ],
    ["no role", { sub: USER }, 'Token role "undefined" is not accepted'],
  ];
  for (const [name, extra, message] of cases) {
    await t.step(name, async () => {
      const token = await signHs256(claims(extra as JwtClaims), SECRET);
      assertEquals(await refusal({ authorization: `Bearer ${token}` }), {
        status: 401,
        code: "invalid_token",
        message,
      });
    });
  }
});

Deno.test("requireRole returns when the caller has one of the roles", () => {
  const caller: Caller = { role: "authenticated", userId: USER, token: "t" };
  assertEquals(requireRole(caller, "service_role", "authenticated"), undefined);
});

Deno.test("requireRole throws 403 naming the roles when the caller has none of them", () => {
  const caller: Caller = { role: "anon", userId: null, token: "t" };
  try {
    requireRole(caller, "service_role", "authenticated");
    throw new Error("requireRole let anon through");
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    assertEquals({ status: error.status, code: error.code, message: error.message }, {
      status: 403,
      code: "forbidden",
      message: "This endpoint needs service_role or authenticated; the credential given is anon",
    });
  }
});

Deno.test("constantTimeEqual is true only for equal strings", async (t) => {
  const cases: [string, string, boolean][] = [
    ["", "", true],
    ["sb_secret_abc", "sb_secret_abc", true],
    ["é✓", "é✓", true],
    ["sb_secret_abc", "sb_secret_abd", false],
    ["sb_secret_abc", "sb_secret_ab", false],
    ["sb_secret_ab", "sb_secret_abc", false],
    ["", "a", false],
    ["a\u0000", "a", false],
    ["é", "e", false],
  ];
  for (const [a, b, expected] of cases) {
    await t.step(`${JSON.stringify(a)} vs ${JSON.stringify(b)} -> ${expected}`, () => {
      assertEquals(constantTimeEqual(a, b), expected);
    });
  }
});

Deno.test("identifyCaller verifies a token again once it expired, though it passed before", async () => {
  const token = await signEs256(
    claims({ exp: NOW + 30, sub: USER, role: "authenticated" }),
    PRIVATE_JWK,
  );
  const at = (now: number) =>
    identifyCaller(request({ authorization: `Bearer ${token}` }), CONFIG, now);
  assertEquals((await at(NOW)).userId, USER);
  assertEquals((await at(NOW + 10)).userId, USER);
  try {
    await at(NOW + 31);
    throw new Error("an expired token was accepted");
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    assertEquals([error.status, error.code], [401, "invalid_token"]);
  }
});

Deno.test("identifyCaller does not take a token verified under one config for another", async () => {
  const token = await signHs256(claims({ sub: USER, role: "authenticated" }), SECRET);
  assertEquals((await identify({ authorization: `Bearer ${token}` })).userId, USER);
  const other = loadConfig({
    SUPABASE_URL: "http://127.0.0.1:54321",
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: PUBLISHABLE }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
    SUPABASE_JWT_SECRET: "another-secret-that-is-at-least-32-characters",
  });
  try {
    await identifyCaller(request({ authorization: `Bearer ${token}` }), other, NOW);
    throw new Error("a token signed with another secret was accepted");
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    assertEquals(error.status, 401);
  }
});
