/**
 * Operator tokens end to end (issue 21 §8): the real function (telemetry-batch-status, through
 * the gateway) verifies with `jose` against the stack's legacy secret and JWKS, with the
 * stack's issuers configured (SUPABASE_JWT_ISSUERS). Every token below is signed by the stack's
 * own keys unless it says otherwise, so each refusal is for the claim or the header it names.
 */
import { assertEquals } from "@std/assert";
import { type JwtClaims, signEs256, signHs256 } from "../../shared/auth/jwt.ts";
import { USER_TOKEN_ISSUER } from "../../scripts/stack/keys.ts";
import { callFunction, createUser, jsonOf, stackKeys } from "./_helpers.ts";

function status(token: string) {
  return callFunction("telemetry-batch-status", { headers: { authorization: `Bearer ${token}` } });
}

function base64Url(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

Deno.test("operator endpoints refuse with 401 each token whose claims or key are wrong", async (t) => {
  const keys = await stackKeys();
  const user = await createUser();
  const now = Math.floor(Date.now() / 1000);
  const good: JwtClaims = {
    sub: user.id,
    role: "authenticated",
    aud: "authenticated",
    iss: USER_TOKEN_ISSUER,
    iat: now - 10,
    exp: now + 600,
  };
  const { exp: _exp, ...withoutExp } = good;
  const otherPair = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  const otherKey = {
    ...(await crypto.subtle.exportKey("jwk", otherPair.privateKey)),
    kid: keys.signingKey.kid ?? "k",
  };
  const es = (claims: JwtClaims) => signEs256(claims, keys.signingKey);

  await t.step("a good ES256 and a good legacy HS256 user token are accepted", async () => {
    assertEquals((await jsonOf(await status(await es(good)))).status, 200);
    assertEquals((await jsonOf(await status(await signHs256(good, keys.jwtSecret)))).status, 200);
  });
  await t.step(
    "the legacy anon and service_role keys (no aud) are taken for their roles",
    async () => {
      assertEquals((await jsonOf(await status(keys.serviceRoleKey))).status, 200);
      assertEquals((await jsonOf(await status(keys.anonKey))).status, 403);
    },
  );

  const cases: [string, Promise<string> | string, string][] = [
    ["expired", es({ ...good, iat: now - 7200, exp: now - 60 }), "Token has expired"],
    ["without exp", es(withoutExp), "Token has no valid exp claim"],
    [
      "for another audience",
      es({ ...good, aud: "anon" }),
      'Token audience (aud) is not "authenticated"',
    ],
    [
      "from another issuer",
      es({ ...good, iss: "https://other.supabase.co/auth/v1" }),
      "Token issuer (iss) is not accepted",
    ],
    [
      "not valid before a minute from now",
      es({ ...good, nbf: now + 60 }),
      "Token is not valid yet (nbf)",
    ],
    [
      "with alg none",
      `${base64Url({ alg: "none", typ: "JWT" })}.${base64Url({ ...good, role: "service_role" })}.`,
      'Token algorithm "none" is not accepted',
    ],
    ["signed by another ES256 key", signEs256(good, otherKey), "Token signature is invalid"],
    [
      "signed with another HS256 secret",
      signHs256(good, "not-the-stack-secret-but-long-enough-for-hs256"),
      "Token signature is invalid",
    ],
  ];
  for (const [name, token, reason] of cases) {
    await t.step(`a token ${name}`, async () => {
      const { status: code, body } = await jsonOf(await status(await token));
      assertEquals([code, body.error.code, body.error.message], [
        401,
        "invalid_token",
        `Authorization token is not valid: ${reason}`,
      ]);
    });
  }
});
