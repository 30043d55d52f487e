/**
 * An Upstash-compatible REST endpoint in front of the local redis-server, so `@upstash/redis`
 * works unchanged against the local stack. We wrote our own because the npm package
 * `@humanwhocodes/upstash-redis-server` (1.0.0) cannot serve the client as it is: it ignores the
 * `Upstash-Encoding: base64` header that @upstash/redis sends by default (so every string read
 * back would be mangled), it checks the token only on `/` (not on `/pipeline`), and it has no
 * `/multi-exec`.
 *
 * Served: POST / (one command), POST /pipeline, POST /multi-exec, each behind the bearer token.
 * Env: UPSTASH_PORT, UPSTASH_TOKEN, REDIS_PORT.
 */
import { type RedisReply, RedisReplyError, RespConnection } from "./resp.ts";

const port = Number(Deno.env.get("UPSTASH_PORT"));
const token = Deno.env.get("UPSTASH_TOKEN") ?? "";
const redisPort = Number(Deno.env.get("REDIS_PORT"));
if (!port || !token || !redisPort) {
  throw new Error("UPSTASH_PORT, UPSTASH_TOKEN and REDIS_PORT must be set");
}

let connection: RespConnection | null = null;

async function redis(): Promise<RespConnection> {
  if (!connection || connection.closed) connection = await RespConnection.connect(redisPort);
  return connection;
}

type Command = (string | number)[];

function isCommand(value: unknown): value is Command {
  return Array.isArray(value) && value.length > 0 &&
    value.every((part) => typeof part === "string" || typeof part === "number");
}

function toBase64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Shapes a reply as Upstash does: strings base64-encoded on request, except the status "OK". */
function encodeReply(reply: RedisReply, base64: boolean): unknown {
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  if (typeof reply === "string" && base64 && reply !== "OK") return toBase64(reply);
  return reply;
}

function entry(reply: RedisReply, base64: boolean): { result: unknown } | { error: string } {
  return reply instanceof RedisReplyError
    ? { error: reply.message }
    : { result: encodeReply(reply, base64) };
}

async function handle(request: Request): Promise<Response> {
  if (request.headers.get("authorization") !== `Bearer ${token}`) {
    return Response.json({ error: "Unauthorized" }, { status: 401 });
  }
  if (request.method !== "POST") {
    return Response.json({ error: "Only POST is served" }, { status: 405 });
  }
  const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
  const path = new URL(request.url).pathname;
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return Response.json({ error: "Body is not JSON" }, { status: 400 });
  }
  try {
    if (path === "/") {
      if (!isCommand(body)) {
        return Response.json({ error: "Body must be a command" }, { status: 400 });
      }
      const [reply] = await (await redis()).send([body]);
      const result = entry(reply ?? null, base64);
      return Response.json(result, { status: "error" in result ? 400 : 200 });
    }
    if (path === "/pipeline" || path === "/multi-exec") {
      if (!Array.isArray(body) || body.length === 0 || !body.every(isCommand)) {
        return Response.json({ error: "Body must be a non-empty list of commands" }, {
          status: 400,
        });
      }
      if (path === "/pipeline") {
        const replies = await (await redis()).send(body);
        return Response.json(replies.map((reply) => entry(reply, base64)));
      }
      const replies = await (await redis()).send([["MULTI"], ...body, ["EXEC"]]);
      const executed = replies.at(-1);
      if (!Array.isArray(executed)) {
        return Response.json({ error: "Transaction was aborted" }, { status: 400 });
      }
      return Response.json(executed.map((reply) => entry(reply, base64)));
    }
    return Response.json({ error: `No such endpoint: ${path}` }, { status: 404 });
  } catch (error) {
    connection = null;
    const message = error instanceof Error ? error.message : String(error);
    return Response.json({ error: `Redis is unreachable: ${message}` }, { status: 503 });
  }
}

Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handle);
