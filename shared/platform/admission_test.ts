import { assertEquals, assertThrows } from "@std/assert";
import { type AdmissionBudget, createAdmission } from "./admission.ts";
import { HttpError } from "./http.ts";

const BUDGET: AdmissionBudget = { maxBytes: 1000, maxFrames: 100, retryAfterSeconds: 2 };

function refusal(action: () => unknown): HttpError {
  return assertThrows(action, HttpError);
}

Deno.test("admit holds the declared bytes and release gives them back", () => {
  const admission = createAdmission(BUDGET);
  const a = admission.admit(600);
  const b = admission.admit(400);
  assertEquals(admission.inFlight(), { bytes: 1000, frames: 0, tickets: 2 });
  a.release();
  a.release();
  assertEquals(admission.inFlight(), { bytes: 400, frames: 0, tickets: 1 });
  b.release();
  assertEquals(admission.inFlight(), { bytes: 0, frames: 0, tickets: 0 });
});

Deno.test("admit refuses a declared body that does not fit, with 503 and Retry-After", () => {
  const admission = createAdmission(BUDGET);
  const held = admission.admit(700);
  const error = refusal(() => admission.admit(301));
  assertEquals(error.status, 503);
  assertEquals(error.code, "over_capacity");
  assertEquals(error.headers, { "retry-after": "2" });
  assertEquals(error.details, {
    max_bytes_in_flight: 1000,
    max_frames_in_flight: 100,
    request_bytes: 301,
    request_frames: 0,
  });
  // The refused ticket holds nothing.
  assertEquals(admission.inFlight(), { bytes: 700, frames: 0, tickets: 1 });
  held.release();
});

Deno.test("admit lets one request alone in whatever its size", () => {
  const admission = createAdmission(BUDGET);
  const big = admission.admit(5000);
  big.hold(6000, 500);
  assertEquals(admission.inFlight(), { bytes: 6000, frames: 500, tickets: 1 });
  assertEquals(refusal(() => admission.admit(1)).status, 503);
  big.release();
  admission.admit(1).release();
});

Deno.test("hold grows a ticket as its body is read; growth past the budget is refused and the refused ticket lets go", () => {
  const admission = createAdmission(BUDGET);
  const a = admission.admit(0);
  const b = admission.admit(0);
  const c = admission.admit(0);
  a.hold(500, 60);
  a.hold(400, 50); // never shrinks by hold
  assertEquals(admission.inFlight(), { bytes: 500, frames: 60, tickets: 3 });
  b.hold(250, 20);
  c.hold(250, 20);
  assertEquals(refusal(() => b.hold(250, 21)).code, "over_capacity"); // one frame too many
  assertEquals(admission.inFlight(), { bytes: 750, frames: 80, tickets: 2 });
  c.hold(500, 20); // fits now that b has let go
  assertEquals(refusal(() => c.hold(501, 20)).code, "over_capacity"); // one byte too many
  assertEquals(admission.inFlight(), { bytes: 500, frames: 60, tickets: 1 });
  b.hold(100, 0); // a refused ticket holds nothing more
  assertEquals(admission.inFlight(), { bytes: 500, frames: 60, tickets: 1 });
  a.release();
  b.release();
  assertEquals(admission.inFlight(), { bytes: 0, frames: 0, tickets: 0 });
});

Deno.test("holdFrames gives frames back once they are stored", () => {
  const admission = createAdmission(BUDGET);
  const stream = admission.admit(0);
  const other = admission.admit(0);
  other.hold(0, 50);
  stream.holdFrames(50);
  stream.holdFrames(10); // 40 stored: given back
  assertEquals(admission.inFlight(), { bytes: 0, frames: 60, tickets: 2 });
  stream.holdFrames(50);
  assertEquals(refusal(() => stream.holdFrames(51)).code, "over_capacity");
  assertEquals(admission.inFlight(), { bytes: 0, frames: 50, tickets: 1 });
  stream.release();
  other.release();
  assertEquals(admission.inFlight(), { bytes: 0, frames: 0, tickets: 0 });
});

Deno.test("bodies of undeclared length read side by side: a refused one lets go at once, so one goes through", () => {
  // 64 requests without Content-Length, read 10 bytes a turn up to 500 each (a budget of 1000).
  // The refused ones are not released by their handlers here (their answers are still on the
  // way): the refusal itself must let go, or every request is refused in the same turn.
  const admission = createAdmission(BUDGET);
  const tickets = Array.from({ length: 64 }, () => ({ ticket: admission.admit(0), read: 0 }));
  const refused = new Set<number>();
  for (let turn = 0; turn < 50; turn++) {
    tickets.forEach((request, index) => {
      if (refused.has(index)) return;
      try {
        request.ticket.hold(request.read + 10, 0);
        request.read += 10;
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        refused.add(index);
      }
    });
  }
  const finished = tickets.filter(({ read }) => read === 500).length;
  assertEquals(finished >= 1, true, `${finished} of 64 read their whole body`);
  assertEquals(finished + refused.size, 64);
  assertEquals(admission.inFlight().bytes, finished * 500);
});
