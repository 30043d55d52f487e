/**
 * What end-to-end tests share: the running local stack's URLs and keys, users with tokens,
 * devices created through the `devices` function, and direct SQL for checking what Postgres holds.
 * The stack is real (PostgreSQL, PostgREST, Redis, the gateway); nothing here is a fake.
 */
import { loadKeys, mintUserToken, type StackKeys } from "../../scripts/stack/keys.ts";
import { GATEWAY_URL } from "../../scripts/stack/layout.ts";
import * as postgres from "../../scripts/stack/postgres.ts";

export const FUNCTIONS_URL = `${GATEWAY_URL}/functions/v1`;
export const REST_URL = `${GATEWAY_URL}/rest/v1`;

let keysPromise: Promise<StackKeys> | null = null;

/** The stack's keys (anon, service_role, publishable, secret, JWKS signing key). */
export function stackKeys(): Promise<StackKeys> {
  keysPromise ??= loadKeys();
  return keysPromise;
}

/** Runs SQL as the postgres superuser and returns psql's unaligned output. */
export function sql(statement: string): Promise<string> {
  return postgres.psql(statement);
}

export interface TestUser {
  id: string;
  token: string;
}

/** A fresh auth user with an ES256 access token, as Supabase Auth would issue. */
export async function createUser(): Promise<TestUser> {
  const id = crypto.randomUUID();
  await sql(`insert into auth.users (id, email) values ('${id}', '${id}@example.test')`);
  return { id, token: await mintUserToken(await stackKeys(), id) };
}

/** Calls a function through the gateway. */
export function callFunction(
  name: string,
  init: RequestInit & { path?: string; query?: Record<string, string> } = {},
): Promise<Response> {
  const url = new URL(`${FUNCTIONS_URL}/${name}${init.path ?? ""}`);
  for (const [key, value] of Object.entries(init.query ?? {})) url.searchParams.set(key, value);
  return fetch(url, init);
}

/** A JSON body and its status, reading the body so that no resource leaks. */
// deno-lint-ignore no-explicit-any -- tests assert on bodies field by field
export async function jsonOf(response: Response): Promise<{ status: number; body: any }> {
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    throw new Error(`Expected JSON from ${response.url} (${response.status}), got: ${text}`);
  }
}

export interface TestDevice {
  id: string;
  key: string;
  owner: TestUser;
}

/** Creates a device for the user through the devices function and returns its key. */
export async function createDevice(owner: TestUser, name = "test drone"): Promise<TestDevice> {
  const { status, body } = await jsonOf(
    await callFunction("devices", {
      method: "POST",
      headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name }),
    }),
  );
  if (status !== 201 && status !== 200) {
    throw new Error(`Creating a device failed: ${status} ${JSON.stringify(body)}`);
  }
  return { id: body.device.id, key: body.device.key, owner };
}

/** Sends telemetry text as a device. */
export function sendTelemetry(
  device: { key: string },
  body: string | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return callFunction("telemetry-parse", {
    method: "POST",
    headers: { authorization: `Bearer ${device.key}`, "content-type": "text/plain", ...headers },
    body,
    query,
    ...(signal ? { signal } : {}),
  });
}
