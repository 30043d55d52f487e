/**
 * The local stack's keys, shaped as a hosted project has them: legacy anon and service_role
 * JWTs (HS256), a publishable and a secret API key (not JWTs), and an ES256 signing key published
 * as a JWKS for user tokens. Generated once per data folder and kept in .stack/keys.json.
 */
import { base64UrlEncode, type Jwk, signEs256, signHs256 } from "../../shared/auth/jwt.ts";
import { GATEWAY_URL, JWT_SECRET, stackPath } from "./layout.ts";

interface StoredKeys {
  signingKey: Jwk;
  publishableKey: string;
  secretKey: string;
  upstashToken: string;
}

/** Every key and token of the stack, derived from the stored ones. */
export interface StackKeys extends StoredKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  /** The public JWKS: the ES256 key only, as SUPABASE_JWKS carries it. */
  jwks: { keys: Jwk[] };
}

function randomToken(bytes: number): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function createStoredKeys(): Promise<StoredKeys> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const signingKey: Jwk = {
    ...(await crypto.subtle.exportKey("jwk", pair.privateKey)),
    kid: crypto.randomUUID(),
    alg: "ES256",
    use: "sig",
  };
  return {
    signingKey,
    publishableKey: `sb_publishable_${randomToken(18)}`,
    secretKey: `sb_secret_${randomToken(18)}`,
    upstashToken: randomToken(24),
  };
}

/** Loads the stack's keys, creating them on first use. */
export async function loadKeys(): Promise<StackKeys> {
  const file = stackPath("keys.json");
  let stored: StoredKeys;
  try {
    stored = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    stored = await createStoredKeys();
    await Deno.mkdir(stackPath(), { recursive: true });
    await Deno.writeTextFile(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  const { d: _private, key_ops: _ops, ...publicKey } = stored.signingKey;
  // The legacy keys are the same every time: fixed claims signed with the fixed local secret.
  const legacy = { iss: "supabase-demo", iat: 1641769200, exp: 1799535600 };
  return {
    ...stored,
    jwtSecret: JWT_SECRET,
    anonKey: await signHs256({ ...legacy, role: "anon" }, JWT_SECRET),
    serviceRoleKey: await signHs256({ ...legacy, role: "service_role" }, JWT_SECRET),
    jwks: { keys: [publicKey] },
  };
}

/** The `iss` of user tokens: this stack's Auth URL, on its own port (STACK_PORT_OFFSET moves it). */
export function issuer(): string {
  return `${GATEWAY_URL}/auth/v1`;
}

/**
 * Mints a user access token as Supabase Auth would: ES256 with the stack's signing key.
 * @param userId the `sub` claim (an auth.users id)
 */
export function mintUserToken(keys: StackKeys, userId: string, ttlSeconds = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signEs256({
    sub: userId,
    role: "authenticated",
    aud: "authenticated",
    iss: issuer(),
    iat: now,
    exp: now + ttlSeconds,
  }, keys.signingKey);
}

/** A short-lived HS256 token for a role, as the gateway hands PostgREST for an API key. */
export function mintRoleToken(keys: StackKeys, role: "anon" | "service_role"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signHs256({ role, iss: "supabase-gateway", iat: now, exp: now + 300 }, keys.jwtSecret);
}
