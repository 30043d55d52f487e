/**
 * Work that runs after the answer was sent (Redis bookkeeping, say). On hosted Edge Functions
 * `EdgeRuntime.waitUntil` keeps the isolate alive until it is done; elsewhere it just runs.
 */
export function runAfterAnswer(work: Promise<unknown>): void {
  const runtime = (globalThis as { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } })
    .EdgeRuntime;
  runtime?.waitUntil(work);
}
