/**
 * Who is calling an operator endpoint. Checked in the function itself (verify_jwt is off) so that
 * both generations of Supabase credentials work:
 * - a user JWT signed with the legacy HS256 secret or with a key of SUPABASE_JWKS (ES256);
 * - the legacy service_role JWT, or a secret key (`sb_secret_…`) in `apikey` or as Bearer;
 * - a publishable key (`sb_publishable_…`) or the legacy anon key alone: the anon role.
 */
import type { Config } from "../platform/config.ts";
import { HttpError } from "../platform/http.ts";
import {
  createJwtVerifier,
  type JwtClaims,
  JwtError,
  type JwtVerifier,
  looksLikeJwt,
} from "./jwt.ts";

/** Device keys (telemetry.new_device_key) start so; named in the refusal to help a confused client. */
const DEVICE_KEY_PREFIX = "dtk_";

export type Caller =
  | { role: "service_role"; userId: null; token: string }
  | { role: "authenticated"; userId: string; token: string }
  | { role: "anon"; userId: null; token: string };

function bearerToken(request: Request): string | null {
  const match = request.headers.get("authorization")?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/** Compares two strings in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  let diff = left.length ^ right.length;
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  }
  return diff === 0;
}

function matchesAny(key: string, keys: readonly string[]): boolean {
  return keys.reduce((found, candidate) => constantTimeEqual(key, candidate) || found, false);
}

/** One verifier per config: the key sets it builds keep their imported keys. */
const verifiers = new WeakMap<Config, JwtVerifier>();

function verifierFor(config: Config): JwtVerifier {
  let verifier = verifiers.get(config);
  if (!verifier) {
    verifier = createJwtVerifier({
      hs256Secret: config.jwtSecret,
      jwks: config.jwks,
      jwksUrl: config.jwksUrl,
      issuers: config.jwtIssuers,
    });
    verifiers.set(config, verifier);
  }
  return verifier;
}

/** Tokens this isolate verified lately, per config: see verifiedClaims. */
const verifiedTokens = new WeakMap<
  Config,
  Map<string, { claims: JwtClaims; from: number; until: number }>
>();
const VERIFIED_TOKENS_KEPT = 1000;
const VERIFIED_TOKEN_SECONDS = 60;

/**
 * A token's claims, verified at most once a minute: verifying an ES256 signature was most of a
 * cached query's time inside the function. A token
 * is kept by its whole text, for at most a minute and never past its `exp`, so what is skipped
 * is only a repeat of a check that passed; an expired or altered token is verified again.
 */
async function verifiedClaims(token: string, config: Config, now: number): Promise<JwtClaims> {
  let tokens = verifiedTokens.get(config);
  if (!tokens) verifiedTokens.set(config, tokens = new Map());
  const kept = tokens.get(token);
  if (kept && kept.from <= now && now < kept.until) return kept.claims;
  const claims = await verifierFor(config)(token, now);
  if (tokens.size >= VERIFIED_TOKENS_KEPT) tokens.delete(tokens.keys().next().value as string);
  const exp = typeof claims.exp === "number" ? claims.exp : Infinity;
  tokens.set(token, { claims, from: now, until: Math.min(exp, now + VERIFIED_TOKEN_SECONDS) });
  return claims;
}

/**
 * Identifies the caller from its headers.
 * @throws {HttpError} 401 when no credential is given or the one given is not valid (a Bearer
 *   that is not a valid operator credential is `invalid_token`, even beside a valid apikey)
 */
export async function identifyCaller(
  request: Request,
  config: Config,
  now: number = Date.now() / 1000,
): Promise<Caller> {
  const token = bearerToken(request);
  const apikey = request.headers.get("apikey");

  if (token && looksLikeJwt(token) && !matchesAny(token, config.publishableKeys)) {
    let claims;
    try {
      claims = await verifiedClaims(token, config, now);
    } catch (error) {
      const reason = error instanceof JwtError ? error.message : "Token could not be verified";
      throw new HttpError(401, "invalid_token", `Authorization token is not valid: ${reason}`);
    }
    if (claims.role === "service_role") return { role: "service_role", userId: null, token };
    if (claims.role === "authenticated" && typeof claims.sub === "string" && claims.sub) {
      return { role: "authenticated", userId: claims.sub, token };
    }
    if (claims.role === "anon") return { role: "anon", userId: null, token };
    if (claims.role === "authenticated") {
      throw new HttpError(401, "invalid_token", "Token of role authenticated has no sub claim");
    }
    throw new HttpError(
      401,
      "invalid_token",
      `Token role "${String(claims.role)}" is not accepted`,
    );
  }
  // A Bearer that is present decides, whatever the apikey says: a device key or a stale key sent
  // by a client that also sends the publishable key must be told it is not valid (401), not that
  // the anon role lacks access (403).
  if (
    token && !matchesAny(token, config.secretKeys) && !matchesAny(token, config.publishableKeys)
  ) {
    throw new HttpError(
      401,
      "invalid_token",
      token.startsWith(DEVICE_KEY_PREFIX)
        ? "Authorization token is a device key, which only telemetry-parse takes; send an operator JWT or a secret key"
        : "Authorization token is not a valid operator credential",
    );
  }
  for (const key of [token, apikey]) {
    if (!key) continue;
    if (matchesAny(key, config.secretKeys)) {
      return { role: "service_role", userId: null, token: config.serviceKey };
    }
    if (matchesAny(key, config.publishableKeys)) {
      return { role: "anon", userId: null, token: config.anonKey };
    }
  }
  if (token || apikey) throw new HttpError(401, "invalid_api_key", "API key is not valid");
  throw new HttpError(
    401,
    "missing_credentials",
    "Send an operator JWT as Authorization: Bearer, or an API key in the apikey header",
  );
}

/**
 * Throws unless the caller has one of the roles.
 * @throws {HttpError} 403 naming the roles that may call
 */
export function requireRole(caller: Caller, ...roles: Caller["role"][]): void {
  if (!roles.includes(caller.role)) {
    throw new HttpError(
      403,
      "forbidden",
      `This endpoint needs ${roles.join(" or ")}; the credential given is ${caller.role}`,
    );
  }
}
