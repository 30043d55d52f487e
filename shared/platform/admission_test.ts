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

Deno.test("hold grows a ticket as its body is read and refuses growth past the budget", () => {
  const admission = createAdmission(BUDGET);
  const a = admission.admit(0);
  const b = admission.admit(0);
  a.hold(500, 60);
  a.hold(400, 50); // never shrinks by hold
  assertEquals(admission.inFlight(), { bytes: 500, frames: 60, tickets: 2 });
  b.hold(500, 40);
  assertEquals(refusal(() => b.hold(500, 41)).code, "over_capacity");
  assertEquals(refusal(() => b.hold(501, 40)).code, "over_capacity");
  assertEquals(admission.inFlight(), { bytes: 1000, frames: 100, tickets: 2 });
  a.release();
  b.hold(900, 90);
  assertEquals(admission.inFlight(), { bytes: 900, frames: 90, tickets: 1 });
  b.release();
});

Deno.test("holdFrames gives frames back once they are stored", () => {
  const admission = createAdmission(BUDGET);
  const stream = admission.admit(0);
  const other = admission.admit(0);
  other.hold(0, 50);
  stream.holdFrames(50);
  assertEquals(refusal(() => stream.holdFrames(51)).code, "over_capacity");
  stream.holdFrames(10);
  assertEquals(admission.inFlight(), { bytes: 0, frames: 60, tickets: 2 });
  stream.release();
  other.release();
  assertEquals(admission.inFlight(), { bytes: 0, frames: 0, tickets: 0 });
});
