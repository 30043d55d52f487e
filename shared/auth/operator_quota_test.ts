import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { createMemoryCache } from "../platform/cache.ts";
import { HttpError } from "../platform/http.ts";
import type { Caller } from "./operator_auth.ts";
import {
  admitRead,
  createReadLimiter,
  liveSlotsKey,
  onStreamEnd,
  openLiveSlot,
} from "./operator_quota.ts";

const NOW = new Date("2026-11-26T12:00:10.000Z");
const USER: Caller = { role: "authenticated", userId: "user-1", token: "t" };
const SERVICE: Caller = { role: "service_role", userId: null, token: "s" };

Deno.test("admitRead counts a user's reads up to the quota and never service role's", () => {
  const cache = createMemoryCache(() => NOW.getTime());
  const limiter = createReadLimiter(2);
  admitRead(limiter, cache, USER, NOW);
  admitRead(limiter, cache, USER, NOW);
  const error = assertThrows(() => admitRead(limiter, cache, USER, NOW), HttpError);
  assertEquals([error.status, error.code, error.headers], [429, "query_rate_limited", {
    "retry-after": "50",
  }]);
  for (let i = 0; i < 5; i++) admitRead(limiter, cache, SERVICE, NOW);
});

Deno.test("openLiveSlot refuses past the cap with Retry-After until a slot is released", async () => {
  const cache = createMemoryCache(() => NOW.getTime());
  const releases = [
    await openLiveSlot(cache, USER, 2, NOW, 60),
    await openLiveSlot(cache, USER, 2, NOW, 120),
  ];
  const error = await assertRejects(() => openLiveSlot(cache, USER, 2, NOW, 60), HttpError);
  // The first slot lapses 60 s + 30 s of grace from now.
  assertEquals([error.status, error.code, error.headers], [429, "live_stream_limit", {
    "retry-after": "90",
  }]);
  await releases[0]?.();
  await openLiveSlot(cache, USER, 2, NOW, 60);
  // Service role takes no slot.
  await openLiveSlot(cache, SERVICE, 2, NOW, 60);
  assertEquals(liveSlotsKey("user-1"), "telemetry:v1:live-slots:user-1");
});

Deno.test("onStreamEnd calls back once when the stream closes or its reader cancels it", async () => {
  let ended = 0;
  const source = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1]));
        controller.close();
      },
    });
  await new Response(onStreamEnd(source(), () => ended++)).arrayBuffer();
  assertEquals(ended, 1);
  const cancelled = onStreamEnd(new ReadableStream<Uint8Array>(), () => ended++);
  await cancelled.cancel();
  await cancelled.cancel();
  assertEquals(ended, 2);
});
