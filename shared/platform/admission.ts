/**
 * Admission control: an isolate never takes on more request bodies than fit in its memory.
 * Each request that reads a body holds a ticket for the bytes it has read (or declared in
 * Content-Length) and the frames it has parsed, until it is answered. A ticket that would take
 * the isolate past its budget is refused with 503 `over_capacity` and Retry-After: up front when
 * Content-Length says the body would not fit (nothing of the body is read), else as soon as the
 * bytes or frames read would not fit. A refused request stores nothing.
 *
 * One request alone is always admitted: its own caps (body bytes, lines) bound it, so a budget
 * below one request's size slows the isolate down to one request at a time, never to none.
 */
import { HttpError } from "./http.ts";

/** The most an isolate holds at once over all its requests. */
export interface AdmissionBudget {
  /** Body bytes read or declared by requests not yet answered. */
  maxBytes: number;
  /** Frames parsed by requests not yet answered (a parsed frame outweighs its bytes). */
  maxFrames: number;
  /** What a refused request is told to wait, in whole seconds. */
  retryAfterSeconds: number;
}

/** One request's share of the budget: grown as its body is read, given back when answered. */
export interface AdmissionTicket {
  /**
   * Holds at least this many bytes and frames (a ticket never shrinks by this call).
   * @throws {HttpError} 503 over_capacity when the growth does not fit
   */
  hold(bytes: number, frames: number): void;
  /** Holds exactly this many frames (less once pending frames are stored). */
  holdFrames(frames: number): void;
  /** Gives the ticket's share back; safe to call more than once. */
  release(): void;
}

/** The isolate's budget and what its open tickets hold. */
export interface Admission {
  /**
   * Opens a ticket holding the body's declared length (0 when none is declared).
   * @throws {HttpError} 503 over_capacity when the declared body does not fit
   */
  admit(declaredBytes: number): AdmissionTicket;
  /** What the open tickets hold now (for logs and tests). */
  inFlight(): { bytes: number; frames: number; tickets: number };
}

/** The 503 a request gets when the isolate is full. */
export function overCapacity(
  budget: AdmissionBudget,
  wanted: { bytes: number; frames: number },
): HttpError {
  return new HttpError(
    503,
    "over_capacity",
    `The function is at capacity (${budget.maxBytes} body bytes and ${budget.maxFrames} frames ` +
      `in flight at most); nothing of this request was stored, retry after ` +
      `${budget.retryAfterSeconds} s`,
    {
      "max_bytes_in_flight": budget.maxBytes,
      "max_frames_in_flight": budget.maxFrames,
      "request_bytes": wanted.bytes,
      "request_frames": wanted.frames,
    },
    { "retry-after": String(budget.retryAfterSeconds) },
  );
}

/** Creates an isolate's admission control (one per function, at module scope). */
export function createAdmission(budget: AdmissionBudget): Admission {
  let bytes = 0;
  let frames = 0;
  let tickets = 0;

  const admit = (declaredBytes: number): AdmissionTicket => {
    let heldBytes = 0;
    let heldFrames = 0;
    let open = true;
    const release = (): void => {
      if (!open) return;
      open = false;
      bytes -= heldBytes;
      frames -= heldFrames;
      tickets--;
    };
    const grow = (wantBytes: number, wantFrames: number): void => {
      const moreBytes = Math.max(0, wantBytes - heldBytes);
      const moreFrames = Math.max(0, wantFrames - heldFrames);
      if (moreBytes === 0 && moreFrames === 0) return;
      const alone = bytes === heldBytes && frames === heldFrames;
      const fits = bytes + moreBytes <= budget.maxBytes && frames + moreFrames <= budget.maxFrames;
      if (!fits && !alone) {
        const wanted = {
          bytes: Math.max(wantBytes, heldBytes),
          frames: Math.max(wantFrames, heldFrames),
        };
        // A refused request lets go of what it held at once, not when its answer has been sent:
        // else requests refused together, still holding, could refuse every other one too (64
        // bodies of undeclared length once all got 503).
        release();
        throw overCapacity(budget, wanted);
      }
      bytes += moreBytes;
      frames += moreFrames;
      heldBytes += moreBytes;
      heldFrames += moreFrames;
    };
    const ticket: AdmissionTicket = {
      hold(wantBytes, wantFrames) {
        if (open) grow(wantBytes, wantFrames);
      },
      holdFrames(wantFrames) {
        if (!open) return;
        if (wantFrames > heldFrames) grow(heldBytes, wantFrames);
        else {
          frames -= heldFrames - wantFrames;
          heldFrames = wantFrames;
        }
      },
      release,
    };
    tickets++;
    try {
      grow(Math.max(0, declaredBytes), 0);
    } catch (error) {
      ticket.release();
      throw error;
    }
    return ticket;
  };

  return { admit, inFlight: () => ({ bytes, frames, tickets }) };
}
