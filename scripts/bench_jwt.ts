// deno-lint-ignore-file no-console -- a benchmark: the console is its output
/**
 * `deno task bench:jwt [--rounds 5] [--verifies 2000]`: the CPU time of one uncached token
 * verification (what an operator request pays when its token is not in the isolate's one-minute
 * cache: a new token, a new isolate), with `jose` (shared/auth/jwt.ts, one verifier per isolate
 * as operator_auth keeps it) beside the hand-written WebCrypto verifier it replaced
 * (scripts/bench/jwt_webcrypto_baseline.ts), alternately in the same run. Prints the median µs
 * per verify of each, the difference and the ratio. Needs no stack.
 */
import { parseArgs } from "node:util";
import { createJwtVerifier, type Jwk, signEs256, signHs256 } from "../shared/auth/jwt.ts";
import { verifyJwt as verifyByHand } from "./bench/jwt_webcrypto_baseline.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    verifies: { type: "string", default: "2000" },
  },
});
const ROUNDS = Number(values.rounds);
const VERIFIES = Number(values.verifies);

const SECRET = "a-bench-secret-that-is-at-least-32-characters";
const ISSUER = "http://127.0.0.1:54321/auth/v1";
const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
  "sign",
  "verify",
]);
const privateJwk: Jwk = { ...(await crypto.subtle.exportKey("jwk", pair.privateKey)), kid: "k1" };
const publicJwk: Jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid: "k1" };
const now = Math.floor(Date.now() / 1000);
const claims = {
  sub: crypto.randomUUID(),
  role: "authenticated",
  aud: "authenticated",
  iss: ISSUER,
  iat: now,
  exp: now + 3600,
  "session_id": crypto.randomUUID(),
};
const tokens = {
  "HS256 user token": await signHs256(claims, SECRET),
  "ES256 user token": await signEs256(claims, privateJwk),
};
const keys = { hs256Secret: SECRET, jwks: [publicJwk], issuers: [ISSUER, "supabase"] };
const jose = createJwtVerifier(keys);
const ways = {
  "hand-written (before)": (token: string) => verifyByHand(token, keys, now),
  "jose (after)": (token: string) => jose(token, now),
};

async function microsPerVerify(verify: (token: string) => Promise<unknown>, token: string) {
  const start = performance.now();
  for (let i = 0; i < VERIFIES; i++) await verify(token);
  return ((performance.now() - start) * 1000) / VERIFIES;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

console.log(`${ROUNDS} rounds of ${VERIFIES} verifies each, alternating; µs per verify`);
for (const [name, token] of Object.entries(tokens)) {
  const samples: Record<string, number[]> = {};
  for (const way of Object.keys(ways)) await microsPerVerify(ways[way as keyof typeof ways], token);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [way, verify] of Object.entries(ways)) {
      (samples[way] ??= []).push(await microsPerVerify(verify, token));
    }
  }
  const before = median(samples["hand-written (before)"]!);
  const after = median(samples["jose (after)"]!);
  const spread = (way: string) =>
    `${Math.min(...samples[way]!).toFixed(1)}–${Math.max(...samples[way]!).toFixed(1)}`;
  console.log(
    `${name}: before ${before.toFixed(1)} (${spread("hand-written (before)")}), after ${
      after.toFixed(1)
    } (${spread("jose (after)")}), after - before ${(after - before).toFixed(1)} µs, ratio ${
      (after / before).toFixed(2)
    }`,
  );
}
