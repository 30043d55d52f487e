/**
 * The local stand-in for Supabase's API gateway, on port 54321:
 * - `/rest/v1/*` goes to PostgREST. As on Supabase, an API key is required (`apikey` header or
 *   query parameter); a publishable or secret key is swapped for a short-lived anon or
 *   service_role JWT, since PostgREST only understands JWTs.
 * - `/functions/v1/<name>/*` goes to that function's process, with `/functions/v1` stripped as
 *   Supabase's gateway does. For functions with verify_jwt = true the Bearer token must be an
 *   HS256 JWT signed with the stack's secret, checked here before the function runs.
 * - `/dashboard/` serves the operator dashboard (scripts/stack/dashboard.ts).
 *
 * With a read replica (STACK_REPLICA=1) it also serves the replica's API endpoint on a port of
 * its own, as a hosted read replica has its own: only `/rest/v1/*`, to the replica's PostgREST,
 * with the same API keys.
 */
import { createJwtVerifier, JwtError, looksLikeJwt } from "../../shared/auth/jwt.ts";
import { dashboard } from "./dashboard.ts";
import { type FunctionSpec, listFunctions } from "./functions.ts";
import { loadKeys, mintRoleToken, type StackKeys } from "./keys.ts";
import { PORTS } from "./layout.ts";
import { serveNodeHttp } from "./node_http_server.ts";
import { sendUpstream } from "./upstream_request.ts";

const keys = await loadKeys();
/** What hosted Supabase's gateway checks for a verify_jwt function: any project-signed JWT. */
const verifyJwt = createJwtVerifier({ hs256Secret: keys.jwtSecret, jwks: keys.jwks.keys });
const functions = new Map((await listFunctions()).map((spec) => [spec.name, spec]));

function jsonError(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status });
}

function bearer(request: Request): string | null {
  const match = request.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i);
  return match?.[1]?.trim() ?? null;
}

/** The role an API key stands for, or null for an unknown key. */
function apiKeyRole(keys: StackKeys, apikey: string): "anon" | "service_role" | null {
  if (apikey === keys.publishableKey || apikey === keys.anonKey) return "anon";
  if (apikey === keys.secretKey || apikey === keys.serviceRoleKey) return "service_role";
  return null;
}

const ROLE_TOKEN_REUSE_SECONDS = 240;
const roleTokens = new Map<string, { token: string; mintedAt: number }>();

/** The role's short-lived token, minted again only when it nears its 300 s expiry. */
async function roleToken(role: "anon" | "service_role"): Promise<string> {
  const now = Date.now() / 1000;
  const cached = roleTokens.get(role);
  if (cached && now - cached.mintedAt < ROLE_TOKEN_REUSE_SECONDS) return cached.token;
  const token = await mintRoleToken(keys, role);
  roleTokens.set(role, { token, mintedAt: now });
  return token;
}

async function forward(request: Request, target: URL, headers: Headers): Promise<Response> {
  headers.delete("host");
  try {
    return await sendUpstream(target, request.method, headers, request.body);
  } catch {
    return jsonError(502, { message: `Upstream ${target.host} is not answering` });
  }
}

async function toPostgrest(request: Request, url: URL, postgrestPort: number): Promise<Response> {
  const apikey = request.headers.get("apikey") ?? url.searchParams.get("apikey");
  if (!apikey) {
    return jsonError(401, {
      message: "No API key found in request",
      hint: "No `apikey` request header or url param was found.",
    });
  }
  const role = apiKeyRole(keys, apikey);
  if (!role) return jsonError(401, { message: "Invalid API key" });
  const headers = new Headers(request.headers);
  const token = bearer(request);
  if (!token || !looksLikeJwt(token)) {
    // No user token: the request acts as the key's role. Legacy keys are JWTs already.
    const bearerToken = looksLikeJwt(apikey) ? apikey : await roleToken(role);
    headers.set("authorization", `Bearer ${bearerToken}`);
  }
  const target = new URL(url.pathname.slice("/rest/v1".length) || "/", url);
  target.search = url.search;
  target.host = `127.0.0.1:${postgrestPort}`;
  target.protocol = "http:";
  return await forward(request, target, headers);
}

async function toFunction(request: Request, url: URL, client: string): Promise<Response> {
  const rest = url.pathname.slice("/functions/v1/".length);
  const name = rest.split("/")[0] ?? "";
  const spec: FunctionSpec | undefined = functions.get(name);
  if (!spec) {
    return jsonError(404, { code: "NOT_FOUND", message: "Requested function was not found" });
  }
  if (spec.verifyJwt && request.method !== "OPTIONS") {
    const token = bearer(request);
    if (!token) return jsonError(401, { code: 401, message: "Missing authorization header" });
    try {
      await verifyJwt(token);
    } catch (error) {
      const reason = error instanceof JwtError ? error.message : "Token could not be verified";
      return jsonError(401, { code: 401, message: `Invalid JWT: ${reason}` });
    }
  }
  const target = new URL(`http://127.0.0.1:${spec.port}/${rest}${url.search}`);
  // As Supabase's edge does, the function learns the client's address from x-forwarded-for,
  // set here from the connection (a value the client sent is replaced, never trusted).
  const headers = new Headers(request.headers);
  headers.set("x-forwarded-for", client);
  return await forward(request, target, headers);
}

function route(request: Request, clientAddress: string): Promise<Response> | Response {
  const url = new URL(request.url);
  if (url.pathname === "/rest/v1" || url.pathname.startsWith("/rest/v1/")) {
    return toPostgrest(request, url, PORTS.postgrest);
  }
  if (url.pathname.startsWith("/functions/v1/")) {
    return toFunction(request, url, clientAddress);
  }
  if (url.pathname === "/dashboard" || url.pathname.startsWith("/dashboard/")) {
    return dashboard(request, url, keys);
  }
  // Browsers ask the origin for its icon: the dashboard's.
  if (url.pathname === "/favicon.ico") {
    return dashboard(request, new URL("/dashboard/favicon.ico", url), keys);
  }
  return jsonError(404, { message: `No route for ${url.pathname}` });
}

/** The replica's API endpoint: its Data API only, as on a hosted read replica. */
function replicaRoute(request: Request): Promise<Response> | Response {
  const url = new URL(request.url);
  if (url.pathname === "/rest/v1" || url.pathname.startsWith("/rest/v1/")) {
    return toPostgrest(request, url, PORTS.replicaPostgrest);
  }
  return jsonError(404, { message: `No route for ${url.pathname} on the read replica` });
}

// node:http, not Deno.serve: see node_http_server.ts for why. The replica's endpoint first: the
// stack counts the gateway as up once its main port answers.
if (Deno.env.get("STACK_REPLICA") === "1") {
  await serveNodeHttp({ hostname: "127.0.0.1", port: PORTS.replicaGateway }, replicaRoute);
}
await serveNodeHttp({ hostname: "127.0.0.1", port: PORTS.gateway }, route);
