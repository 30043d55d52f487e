/**
 * The baseline of `deno task bench:jwt`: the hand-written WebCrypto verifier that
 * shared/auth/jwt.ts used before it moved to `jose`, kept verbatim (signature and exp only; no
 * nbf, aud or iss), so that the benchmark measures both in the same run. Not used by the API.
 */

import type { Jwk } from "../../shared/platform/env_schema.ts";
export type { Jwk };

/** The claims this project reads; any others are kept as they came. */
export interface JwtClaims {
  sub?: string;
  role?: string;
  exp?: number;
  iat?: number;
  iss?: string;
  [claim: string]: unknown;
}

/** Why a token was refused; the message is safe to show to the caller. */
export class JwtError extends Error {
  override readonly name = "JwtError";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes bytes as unpadded base64url. */
export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes unpadded base64url.
 * @throws {JwtError} when the text is not base64url
 */
export function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new JwtError("Token segment is not base64url");
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") +
    "=".repeat((4 - (text.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(padded);
  } catch {
    throw new JwtError("Token segment is not base64url");
  }
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function hmacKey(secret: string, usage: KeyUsage): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [usage],
  );
}

const ECDSA = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** Signs claims as an HS256 token with a shared secret. */
export async function signHs256(claims: JwtClaims, secret: string): Promise<string> {
  const input = signingInput({ alg: "HS256", typ: "JWT" }, claims);
  const key = await hmacKey(secret, "sign");
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(input));
  return `${input}.${base64UrlEncode(new Uint8Array(signature))}`;
}

/** Signs claims as an ES256 token with a private P-256 JWK; its `kid` goes in the header. */
export async function signEs256(claims: JwtClaims, privateJwk: Jwk): Promise<string> {
  const header = { alg: "ES256", typ: "JWT", ...(privateJwk.kid ? { kid: privateJwk.kid } : {}) };
  const input = signingInput(header, claims);
  const key = await crypto.subtle.importKey("jwk", privateJwk, ECDSA, false, ["sign"]);
  const signature = await crypto.subtle.sign(ECDSA, key, encoder.encode(input));
  return `${input}.${base64UrlEncode(new Uint8Array(signature))}`;
}

function signingInput(header: Record<string, string>, claims: JwtClaims): string {
  const head = base64UrlEncode(encoder.encode(JSON.stringify(header)));
  const body = base64UrlEncode(encoder.encode(JSON.stringify(claims)));
  return `${head}.${body}`;
}

/** What a verifier may check a token against. */
export interface VerifyKeys {
  /** The legacy HS256 secret, when the project still has one. */
  hs256Secret?: string | undefined;
  /** Public keys for ES256 tokens. */
  jwks?: readonly Jwk[] | undefined;
}

/**
 * Verifies a token's signature and expiry and returns its claims.
 * @param now seconds since the epoch, injected so tests control time
 * @throws {JwtError} naming what is wrong: malformed, unknown algorithm or key, bad signature, expired
 */
export async function verifyJwt(
  token: string,
  keys: VerifyKeys,
  now: number = Date.now() / 1000,
): Promise<JwtClaims> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("Token is not a JWT");
  const [head = "", body = "", sig = ""] = parts;
  const header = parseJsonSegment(head, "header");
  const claims = parseJsonSegment(body, "payload") as JwtClaims;
  const signature = base64UrlDecode(sig);
  const data = encoder.encode(`${head}.${body}`);

  let valid = false;
  if (header.alg === "HS256") {
    if (!keys.hs256Secret) throw new JwtError("HS256 tokens are not accepted here");
    const key = await hmacKey(keys.hs256Secret, "verify");
    valid = await crypto.subtle.verify("HMAC", key, signature, data);
  } else if (header.alg === "ES256") {
    const candidates = (keys.jwks ?? []).filter((jwk) =>
      jwk.kty === "EC" && (header.kid === undefined || jwk.kid === header.kid)
    );
    if (candidates.length === 0) throw new JwtError("No key matches the token's kid");
    for (const jwk of candidates) {
      // Only the public part, whatever the JWKS carries: a private exported key has d and key_ops.
      const { d: _private, key_ops: _ops, ...publicJwk } = jwk;
      let key: CryptoKey;
      try {
        key = await crypto.subtle.importKey("jwk", publicJwk, ECDSA, false, ["verify"]);
      } catch {
        continue; // a malformed key in the set cannot verify anything; try the others
      }
      if (await crypto.subtle.verify(ECDSA, key, signature, data)) {
        valid = true;
        break;
      }
    }
  } else {
    throw new JwtError(`Token algorithm "${String(header.alg)}" is not accepted`);
  }
  if (!valid) throw new JwtError("Token signature is invalid");
  if (typeof claims.exp === "number" && claims.exp <= now) throw new JwtError("Token has expired");
  return claims;
}

function parseJsonSegment(segment: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(decoder.decode(base64UrlDecode(segment)));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through to the error below: the caller learns which segment is bad
  }
  throw new JwtError(`Token ${what} is not a JSON object`);
}

/** True when a string has the three dot-separated segments of a JWT (it says nothing of validity). */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}
