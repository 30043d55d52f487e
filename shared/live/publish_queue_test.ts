import { assertEquals } from "@std/assert";
import { createPublishQueue, type DroppedFrames, type QueuedEntries } from "./publish_queue.ts";

/** A batch of `frames` frames (each `chars` characters) of one device. */
function batch(deviceId: string, frames: number, chars = 10): QueuedEntries {
  const frame = "x".repeat(chars);
  return {
    deviceId,
    entries: [{ frames: Array(frames).fill(frame).join("\n"), flights: "" }],
  };
}

/** A send that records what it got and waits until the test lets it finish. */
function gatedSend() {
  const sent: string[][] = [];
  const sentBatches: QueuedEntries[][] = [];
  const gates: (() => void)[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const send = async (batches: QueuedEntries[]) => {
    sent.push(batches.map((b) => b.deviceId));
    sentBatches.push(batches);
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise<void>((resolve) => gates.push(resolve));
    inFlight--;
  };
  const release = async () => {
    gates.shift()?.();
    // Lets the drain loop take the next wait and call send again.
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { send, sent, sentBatches, release, mostInFlight: () => mostInFlight };
}

/** A queue on a gated send; what it drops goes to `onDrop` (by default, nothing may be). */
function gatedQueue(
  gate: ReturnType<typeof gatedSend>,
  maxWaitingChars: number,
  onDrop: (dropped: DroppedFrames) => void = () => {
    throw new Error("nothing should be dropped");
  },
) {
  return createPublishQueue({
    send: gate.send,
    maxWaitingChars,
    onDrop,
    onError: (error) => {
      throw error;
    },
  });
}

Deno.test("one send at a time: what arrives meanwhile goes together in the next, in order", async () => {
  const gate = gatedSend();
  const queue = gatedQueue(gate, 1_000_000);
  queue.push([batch("a", 1)]);
  queue.push([batch("b", 1)]);
  queue.push([batch("c", 1), batch("d", 1)]);
  assertEquals(gate.sent, [["a"]]);
  await gate.release();
  assertEquals(gate.sent, [["a"], ["b", "c", "d"]]);
  await gate.release();
  await queue.idle();
  assertEquals(gate.mostInFlight(), 1);
  // Idle again: the next push is sent at once.
  queue.push([batch("e", 1)]);
  assertEquals(gate.sent.at(-1), ["e"]);
  await gate.release();
  await queue.idle();
});

Deno.test("past the cap the oldest waiting frames are dropped and reported once per send", async () => {
  const gate = gatedSend();
  const drops: DroppedFrames[] = [];
  // Each batch below is 5 frames of 10 characters and 4 line feeds: 54 characters.
  const queue = gatedQueue(gate, 120, (dropped) => drops.push(dropped));
  queue.push([batch("first", 5)]);
  queue.push([batch("old", 5)]);
  queue.push([batch("both", 5), batch("new", 5)]);
  queue.push([batch("both", 5)]);
  assertEquals(drops, []);
  await gate.release();
  // 4 batches of 54 waited against a cap of 120: the 2 oldest were dropped, 2 devices, 10 frames.
  // Each device's next send says so: "both" on its first batch, "old" alone (no frames).
  assertEquals(gate.sent, [["first"], ["new", "both", "old"]]);
  assertEquals(
    gate.sentBatches[1]?.map((b) => [b.deviceId, b.entries.length, b.skipped]),
    [["new", 1, undefined], ["both", 1, 5], ["old", 0, 5]],
  );
  assertEquals(drops, [{ frames: 10, devices: 2 }]);
  await gate.release();
  await queue.idle();
  assertEquals(drops.length, 1);
});

Deno.test("a batch over the cap alone still waits, and a failed send does not stop the next", async () => {
  const sent: string[][] = [];
  const errors: unknown[] = [];
  let fail = true;
  const queue = createPublishQueue({
    send: (batches) => {
      sent.push(batches.map((b) => b.deviceId));
      if (fail) {
        fail = false;
        return Promise.reject(new Error("redis down"));
      }
      return Promise.resolve();
    },
    maxWaitingChars: 10,
    onDrop: () => {
      throw new Error("nothing should be dropped");
    },
    onError: (error) => errors.push(error),
  });
  queue.push([batch("big", 100)]);
  queue.push([batch("next", 100)]);
  await queue.idle();
  assertEquals(sent, [["big"], ["next"]]);
  assertEquals(errors.map((e) => (e as Error).message), ["redis down"]);
});

Deno.test("a count of unpublished frames is sent on its own, and added to what the wait dropped", async () => {
  const gate = gatedSend();
  const dropped: DroppedFrames[] = [];
  const queue = gatedQueue(gate, 25, (drop) => dropped.push(drop));
  // Sent although it holds no entries: its viewers must hear of the frames.
  queue.push([{ deviceId: "a", entries: [], skipped: 7 }]);
  assertEquals(gate.sentBatches[0], [{ deviceId: "a", entries: [], skipped: 7 }]);
  // While that send is in flight: a's count waits, then two batches push it out of the wait.
  queue.push([{ deviceId: "a", entries: [], skipped: 5 }]);
  queue.push([batch("a", 2)]);
  queue.push([batch("a", 1)]);
  await gate.release();
  // The 5 unpublished and the 2 dropped frames reach the next batch of a as one count.
  assertEquals(gate.sentBatches[1]?.map((b) => [b.deviceId, b.skipped]), [["a", 7]]);
  await gate.release();
  await queue.idle();
  assertEquals(dropped, [{ frames: 7, devices: 1 }]);
});
