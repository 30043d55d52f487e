/**
 * JSON Web Tokens through `jose` (the library Supabase's Edge Function guides use): HS256 with
 * the project's legacy shared secret, ES256 against the project's JWKS (the keys given in
 * SUPABASE_JWKS, and SUPABASE_JWKS_URL fetched and cached when set). Used by the functions to
 * check operator tokens and by the local stack to mint keys. `@supabase/server` was considered
 * and not used: it verifies only the new asymmetric tokens and API keys, and this API must keep
 * accepting the legacy HS256 anon, service_role and user tokens while hosted projects issue them.
 *
 * The claims checked, on top of the signature:
 * - `exp` is required and must be in the future (a token without it would never expire);
 * - `nbf`, when present, must be past;
 * - `aud` must be `authenticated` for a user token (role `authenticated`), as Supabase Auth
 *   issues them; the legacy anon and service_role keys carry no `aud`, so none is asked of them;
 * - `iss` must be one of the configured issuers, when any are configured.
 */
import {
  base64url,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors,
  importJWK,
  type JWTHeaderParameters,
  jwtVerify,
  type JWTVerifyGetKey,
  SignJWT,
} from "jose";
import type { Jwk } from "../platform/env_schema.ts";
export type { Jwk };

/** The claims this project reads; any others are kept as they came. */
export interface JwtClaims {
  sub?: string;
  role?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  iss?: string;
  aud?: string | string[];
  [claim: string]: unknown;
}

/** Why a token was refused; the message is safe to show to the caller. */
export class JwtError extends Error {
  override readonly name = "JwtError";
}

/** The audience Supabase Auth gives user tokens. */
export const USER_AUDIENCE = "authenticated";

const encoder = new TextEncoder();

/** Encodes bytes as unpadded base64url. */
export function base64UrlEncode(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

/** Signs claims as an HS256 token with a shared secret. */
export function signHs256(claims: JwtClaims, secret: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(encoder.encode(secret));
}

/** Signs claims as an ES256 token with a private P-256 JWK; its `kid` goes in the header. */
export async function signEs256(claims: JwtClaims, privateJwk: Jwk): Promise<string> {
  const { key_ops: _ops, ...jwk } = privateJwk;
  const key = await importJWK({ ...jwk, alg: "ES256" }, "ES256");
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ: "JWT", ...(jwk.kid ? { kid: jwk.kid } : {}) })
    .sign(key);
}

/** What a verifier may check a token against. */
export interface VerifyKeys {
  /** The legacy HS256 secret, when the project still has one. */
  hs256Secret?: string | undefined;
  /** Public keys for ES256 tokens. */
  jwks?: readonly Jwk[] | undefined;
  /** A JWKS URL for ES256 tokens whose kid is not in `jwks`; fetched, then cached. */
  jwksUrl?: string | undefined;
  /** The issuers accepted (`iss`); none given: `iss` is not checked. */
  issuers?: readonly string[] | undefined;
}

/** Verifies a token and returns its claims; `now` is seconds since the epoch. */
export type JwtVerifier = (token: string, now?: number) => Promise<JwtClaims>;

/** How long a fetched JWKS is kept, and how soon an unknown kid may fetch it again. */
const REMOTE_JWKS_CACHE_MS = 10 * 60_000;
const REMOTE_JWKS_COOLDOWN_MS = 30_000;

/**
 * Builds a verifier for one set of keys: the secret's bytes, the local key set (jose imports
 * each key once and keeps it) and the remote one (fetched on first use, kept for 10 minutes,
 * fetched again at most every 30 s when a token names a kid it lacks). Build it once per isolate.
 */
export function createJwtVerifier(keys: VerifyKeys): JwtVerifier {
  const secret = keys.hs256Secret ? encoder.encode(keys.hs256Secret) : null;
  // Only the public part of each EC key, whatever the set carries (a private export has d and
  // key_ops, which would make jose refuse the key for verifying).
  const ecKeys = (keys.jwks ?? []).filter((jwk) => jwk.kty === "EC").map(
    ({ d: _private, key_ops: _ops, ...publicJwk }) => publicJwk,
  );
  const local = ecKeys.length > 0
    ? createLocalJWKSet({ keys: ecKeys as Parameters<typeof createLocalJWKSet>[0]["keys"] })
    : null;
  const remote = keys.jwksUrl
    ? createRemoteJWKSet(new URL(keys.jwksUrl), {
      cacheMaxAge: REMOTE_JWKS_CACHE_MS,
      cooldownDuration: REMOTE_JWKS_COOLDOWN_MS,
    })
    : null;
  const algorithms = [...(secret ? ["HS256"] : []), ...(local || remote ? ["ES256"] : [])];
  const issuers = keys.issuers?.length ? [...keys.issuers] : undefined;

  const keyFor: JWTVerifyGetKey = async (header: JWTHeaderParameters, token) => {
    if (header.alg === "HS256" && secret) return secret;
    if (local) {
      try {
        return await local(header, token);
      } catch (error) {
        if (!remote || !(error instanceof errors.JWKSNoMatchingKey)) throw error;
      }
    }
    if (remote) return await remote(header, token);
    throw new errors.JWKSNoMatchingKey();
  };

  return async (token: string, now: number = Date.now() / 1000): Promise<JwtClaims> => {
    // Which claims apply depends on the role, read before the signature is checked; the role
    // that counts is the verified one returned below, from the same bytes.
    let role: unknown;
    try {
      role = decodeJwt(token).role;
    } catch {
      throw new JwtError("Token is not a JWT");
    }
    const options = {
      algorithms,
      requiredClaims: ["exp"],
      currentDate: new Date(now * 1000),
      ...(role === "anon" || role === "service_role" ? {} : { audience: USER_AUDIENCE }),
      ...(issuers ? { issuer: issuers } : {}),
    };
    try {
      return (await jwtVerify(token, keyFor, options)).payload as JwtClaims;
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw refusal(error, token);
      // A token without kid and several EC keys: jose hands the candidates over, to try in turn.
      for await (const key of error as errors.JWKSMultipleMatchingKeys & AsyncIterable<CryptoKey>) {
        try {
          return (await jwtVerify(token, key, options)).payload as JwtClaims;
        } catch (inner) {
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) {
            throw refusal(inner, token);
          }
        }
      }
      throw new JwtError("Token signature is invalid");
    }
  };
}

/** A jose error as a JwtError whose message names what is wrong with the token. */
function refusal(error: unknown, token: string): JwtError {
  if (error instanceof errors.JWTExpired) return new JwtError("Token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "exp") return new JwtError("Token has no valid exp claim");
    if (error.claim === "nbf") return new JwtError("Token is not valid yet (nbf)");
    if (error.claim === "aud") {
      return new JwtError(`Token audience (aud) is not "${USER_AUDIENCE}"`);
    }
    if (error.claim === "iss") return new JwtError("Token issuer (iss) is not accepted");
    return new JwtError(`Token claim ${error.claim} is not valid`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new JwtError(`Token algorithm "${headerAlg(token)}" is not accepted`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new JwtError("Token signature is invalid");
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new JwtError("No key matches the token's kid");
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new JwtError("The project's JWKS could not be read");
  }
  return new JwtError("Token is not a valid JWT");
}

function headerAlg(token: string): string {
  try {
    const head = JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[0] ?? "")));
    return String(head?.alg);
  } catch {
    return "undefined";
  }
}

/**
 * Verifies a token once with keys given for this call only (the local gateway, tests); a
 * function keeps one verifier per isolate instead (createJwtVerifier).
 * @throws {JwtError} naming what is wrong
 */
export function verifyJwt(token: string, keys: VerifyKeys, now?: number): Promise<JwtClaims> {
  return createJwtVerifier(keys)(token, now);
}

/** True when a string has the three dot-separated segments of a JWT (it says nothing of validity). */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}
