/**
 * The local stack's Redis for end-to-end tests: commands through its Upstash REST endpoint (to
 * see what the functions cached), and stopping and restarting redis-server to prove the API
 * stays correct without it.
 */
import { PORTS, stackPath } from "../../scripts/stack/layout.ts";
import { startStack } from "../_stack.ts";
import { stackKeys } from "./_helpers.ts";

const UPSTASH_URL = `http://127.0.0.1:${PORTS.upstash}`;

/** Runs one Redis command through the Upstash REST endpoint and returns its result. */
export async function redis(...command: (string | number)[]): Promise<unknown> {
  const response = await fetch(UPSTASH_URL, {
    method: "POST",
    headers: { authorization: `Bearer ${(await stackKeys()).upstashToken}` },
    body: JSON.stringify(command),
  });
  const body = await response.json();
  if (!response.ok || "error" in body) {
    throw new Error(`Redis ${command[0]} failed: ${JSON.stringify(body)}`);
  }
  return body.result;
}

/** Stops redis-server (the REST endpoint stays up and answers with errors). */
export async function stopRedis(): Promise<void> {
  const pid = Number((await Deno.readTextFile(stackPath("run", "redis.pid"))).trim());
  Deno.kill(pid, "SIGTERM");
  for (let attempt = 0; attempt < 50; attempt++) {
    if (!(await redisAnswers())) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("redis-server did not stop");
}

/** Starts whatever part of the stack is down (here: redis-server) and waits for it. */
export async function restartRedis(): Promise<void> {
  await startStack();
  if (!(await redisAnswers())) throw new Error("redis-server did not come back");
}

async function redisAnswers(): Promise<boolean> {
  try {
    return (await redis("PING")) === "PONG";
  } catch {
    return false;
  }
}
