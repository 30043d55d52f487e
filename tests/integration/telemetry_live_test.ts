/**
 * telemetry-live end to end: through the gateway to the real function, with frames published by
 * the real telemetry-parse into the local stack's Redis, and the device check through PostgREST.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  createLiveFeed,
  LIVE_MAX_LINE_CHARS_PER_REQUEST,
  LIVE_MAX_LINE_CHARS_PER_STREAM_CHUNK,
  type LiveEntry,
  liveStreamKey,
  liveWatchKey,
  streamEntries,
} from "../../shared/live/live_feed.ts";
import { createMemoryLogger } from "../../shared/platform/log.ts";
import { PORTS } from "../../scripts/stack/layout.ts";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
  stackKeys,
  type TestDevice,
} from "./_helpers.ts";
import { redis, restartRedis, stopRedis } from "./_redis.ts";

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** An open stream: its events as they arrive, each with the time it was read. */
class LiveReader {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** The next message, or null at the end of the stream. */
  async next(): Promise<(SseMessage & { at: number }) | null> {
    while (!this.buffer.includes("\n\n")) {
      const { value, done } = await this.reader.read();
      if (done) return null;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
    const end = this.buffer.indexOf("\n\n");
    const block = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end + 2);
    const message: SseMessage = {};
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) message.comment = line.slice(1).trim();
      const match = /^(id|event|data|retry): (.*)$/.exec(line);
      if (match) message[match[1] as "id" | "event" | "data" | "retry"] = match[2] ?? "";
    }
    return { ...message, at: performance.now() };
  }

  /** The next event (comments skipped), or null at the end. */
  async nextEvent(): Promise<(SseMessage & { at: number }) | null> {
    for (let message = await this.next(); message; message = await this.next()) {
      if (message.event) return message;
    }
    return null;
  }

  /** Every remaining event. */
  async rest(): Promise<SseMessage[]> {
    const events: SseMessage[] = [];
    for (let event = await this.nextEvent(); event; event = await this.nextEvent()) {
      events.push(event);
    }
    return events;
  }
}

async function openStream(
  token: string,
  query: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ response: Response; reader: LiveReader }> {
  const response = await callFunction("telemetry-live", {
    headers: { authorization: `Bearer ${token}`, ...headers },
    query,
  });
  assertEquals(response.status, 200, await (response.ok ? "" : response.clone().text()));
  assertEquals(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = new LiveReader(response.body!.getReader());
  const first = await reader.next();
  assertEquals(first?.retry, "1000");
  assertEquals(first?.comment, "connected");
  return { response, reader };
}

/** The ids of the device's stream entries, once `count` of them are there. */
/**
 * The device's live stream as Redis holds it, read every 50 ms until `enough` says so (or 2 s
 * passed: then as it is).
 */
async function readLiveStream(
  device: TestDevice,
  enough: (entries: LiveEntry[]) => boolean,
): Promise<LiveEntry[]> {
  let entries: LiveEntry[] = [];
  for (let attempt = 0; attempt < 40 && !enough(entries); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    entries = streamEntries(await redis("XRANGE", liveStreamKey(device.id), "-", "+"));
  }
  return entries;
}

/** The live feed as the functions use it, on the stack's Redis. */
async function stackLiveFeed(logger = createMemoryLogger()) {
  return createLiveFeed({
    url: `http://127.0.0.1:${PORTS.upstash}`,
    token: (await stackKeys()).upstashToken,
  }, logger);
}

/**
 * Marks the device as watched, as an open telemetry-live stream does: ingest publishes only
 * watched devices' frames.
 */
async function watchLive(device: TestDevice): Promise<void> {
  await (await stackLiveFeed()).watch(device.id);
}

async function streamIds(device: TestDevice, count: number): Promise<string[]> {
  const ids = (await readLiveStream(device, (entries) => entries.length >= count))
    .map((entry) => entry.id);
  assertEquals(ids.length, count);
  return ids;
}

Deno.test("telemetry-live sends a frame within 1 s of its acknowledgement", async () => {
  const device = await createDevice(await createUser());
  const { reader } = await openStream(device.owner.token, { device_id: device.id, duration: "10" });
  const sent = await sendTelemetry(device, "roll:7.5,alt:42,flight_id:f9");
  assertEquals(sent.status, 200);
  await sent.body?.cancel();
  const acknowledged = performance.now();
  const event = await reader.nextEvent();
  const latencyMs = event!.at - acknowledged;
  assertEquals(event?.event, "frame");
  assertMatch(event?.id ?? "", /^\d+-\d+\/0$/);
  const frame = JSON.parse(event!.data!);
  assertEquals(
    [frame.device_id, frame.roll_degrees, frame.altitude_m, frame.flight_id],
    [device.id, 7.5, 42, "f9"],
  );
  // The device's own line stays in Postgres (telemetry-query): it doubled each event.
  assertEquals("raw_data" in frame, false);
  assert(latencyMs < 1000, `frame reached the stream ${latencyMs.toFixed(0)} ms after its 200`);
  // deno-lint-ignore no-console -- the figure the issue asks for, in the test log
  console.log(`acknowledgement to event: ${latencyMs.toFixed(0)} ms`);
  await reader["reader"].cancel();
});

Deno.test("telemetry-live resumes in the middle of an entry without a gap, filtered by flight", async () => {
  const device = await createDevice(await createUser());
  const body = [
    "roll:1,flight_id:a,ts:2026-11-26T10:00:00Z",
    "roll:2,flight_id:b,ts:2026-11-26T10:00:01Z",
    "roll:3,flight_id:a,ts:2026-11-26T10:00:02Z",
    "roll:4,flight_id:a,ts:2026-11-26T10:00:03Z",
  ].join("\n");
  await watchLive(device);
  assertEquals((await jsonOf(await sendTelemetry(device, body))).status, 200);
  // One request, one entry: its frames are events <entry>/0 .. <entry>/3.
  const [entry] = await streamIds(device, 1);

  const { reader } = await openStream(
    device.owner.token,
    { device_id: device.id, flight_id: "a", duration: "1" },
    { "last-event-id": `${entry}/0` },
  );
  const events = await reader.rest();
  assertEquals(events.map((event) => [event.event, event.id]), [
    ["frame", `${entry}/2`],
    ["frame", `${entry}/3`],
    ["end", entry],
  ]);
  assertEquals(events.slice(0, 2).map((event) => JSON.parse(event.data!).roll_degrees), [3, 4]);
  assertEquals(events[2]?.retry, "1000");
});

Deno.test("telemetry-live sends each frame of a multi-entry request as its own event", async () => {
  const device = await createDevice(await createUser());
  const lines = Array.from(
    { length: 120 },
    (_, i) =>
      `roll:${i},ts:2026-11-26T10:${String(Math.floor(i / 60)).padStart(2, "0")}:${
        String(i % 60).padStart(2, "0")
      }Z`,
  );
  await watchLive(device);
  assertEquals((await jsonOf(await sendTelemetry(device, lines.join("\n")))).status, 200);
  // 120 frames in entries of at most 50, newest last.
  const entries = await streamIds(device, 3);
  const expected = [50, 50, 20].flatMap((size, entry) =>
    Array.from({ length: size }, (_, index) => `${entries[entry]}/${index}`)
  );

  const all = await (await openStream(
    device.owner.token,
    { device_id: device.id, duration: "1" },
    { "last-event-id": "0-0" },
  )).reader.rest();
  // From the start: frames from before the device's watch began were never published.
  assertEquals(all[0]?.event, "gap");
  assertEquals(all.slice(1).map((event) => event.id), [...expected, entries[2]]);
  assertEquals(all.slice(1, -1).map((event) => JSON.parse(event.data!).roll_degrees), [
    ...lines.keys(),
  ]);

  // Resuming after an entry's last frame starts at the next entry's first.
  const resumed = await (await openStream(
    device.owner.token,
    { device_id: device.id, duration: "1" },
    { "last-event-id": `${entries[0]}/49` },
  )).reader.rest();
  assertEquals(resumed.map((event) => event.id), [...expected.slice(50), entries[2]]);
  assertEquals(JSON.parse(resumed[0]!.data!).roll_degrees, 50);
});

/** The rolls of every frame in a device's live stream, oldest first, once it holds `count`. */
async function publishedRolls(device: TestDevice, count: number): Promise<number[]> {
  const rolls = (entries: LiveEntry[]) =>
    entries.flatMap((entry) => entry.frames.map((frame) => JSON.parse(frame.data).roll_degrees));
  return rolls(await readLiveStream(device, (entries) => rolls(entries).length >= count));
}

Deno.test("a request publishes its newest frames within its line cap; a stream's chunk, all of them", async () => {
  // NDJSON lines of exactly 1,000 characters (raw_data keeps the spaces as sent).
  const line = (roll: number, i: number) => {
    const text = `{"roll":${roll},"ts":"${
      new Date(Date.UTC(2026, 10, 26, 10) + i * 100).toISOString()
    }"`;
    return `${text}${" ".repeat(999 - text.length)}}`;
  };
  const lines = (from: number) =>
    Array.from({ length: 150 }, (_, i) => line((from + i) % 90, from + i));
  assertEquals(line(1, 1).length, 1000);
  const fit = Math.floor(LIVE_MAX_LINE_CHARS_PER_REQUEST / 1000);
  assert(fit < 150 && 150 * 1000 <= LIVE_MAX_LINE_CHARS_PER_STREAM_CHUNK);

  const batch = await createDevice(await createUser());
  await watchLive(batch);
  const sent = lines(0);
  assertEquals((await jsonOf(await sendTelemetry(batch, sent.join("\n")))).status, 200);
  const expected = sent.slice(-fit).map((text) => JSON.parse(text).roll);
  // Wait past the count the stream must hold, so a larger publish would show.
  assertEquals(await publishedRolls(batch, 150), expected);

  const streamed = await createDevice(await createUser());
  await watchLive(streamed);
  const answer = await jsonOf(
    await sendTelemetry(streamed, lines(200).join("\n") + "\n", {}, { stream: "true" }),
  );
  assertEquals([answer.status, answer.body.accepted], [200, 150]);
  assertEquals(
    await publishedRolls(streamed, 150),
    lines(200).map((text) => JSON.parse(text).roll),
  );
});

Deno.test("telemetry-live names a gap when Redis no longer holds the frames after the id", async () => {
  const device = await createDevice(await createUser());
  const { reader } = await openStream(
    device.owner.token,
    { device_id: device.id, duration: "1" },
    { "last-event-id": "1700000000000-0" },
  );
  const events = await reader.rest();
  assertEquals(events.map((event) => event.event), ["gap", "end"]);
  assertEquals(JSON.parse(events[0]!.data!).after, "1700000000000-0");
});

Deno.test("telemetry-live names a gap where ingest's publishing fell behind and dropped frames", async () => {
  const device = await createDevice(await createUser());
  // The live feed as telemetry-parse publishes, to the stack's Redis: one publish is in flight
  // and what waits behind it is capped at 1M characters, so of two 1,000-frame requests of about
  // 600 kB queued behind it the older is dropped.
  const logger = createMemoryLogger();
  const feed = await stackLiveFeed(logger);
  // Watched before the frames: the resume below is told only of the dropped ones.
  await feed.watch(device.id);
  const request = (first: number) =>
    Array.from({ length: 1000 }, (_, i) => ({ roll_degrees: first + i, note: "x".repeat(560) }));
  feed.publish([{ deviceId: device.id, frames: [{ roll_degrees: -1 }] }]);
  feed.publish([{ deviceId: device.id, frames: request(0) }]);
  feed.publish([{ deviceId: device.id, frames: request(1000) }]);
  // The first frame's entry, the marker, then the last request's 20 entries of 50.
  const ids = await streamIds(device, 22);
  assertEquals(ids.length, 22);

  const events = await (await openStream(
    device.owner.token,
    { device_id: device.id, duration: "1" },
    { "last-event-id": `${ids[0]}/0` },
  )).reader.rest();
  assertEquals(events[0]?.event, "gap");
  const gap = JSON.parse(events[0]!.data!);
  assertEquals([gap.after, gap.skipped], [`${ids[0]}/0`, 1000]);
  // The gap's id is the marker's: resuming after it sends the newer frames without the gap again.
  assertEquals(events[0]?.id, ids[1]);
  const frames = events.filter((event) => event.event === "frame");
  assertEquals(
    frames.map((event) => JSON.parse(event.data!).roll_degrees),
    request(1000).map((frame) => frame.roll_degrees),
  );
  assertEquals(events.at(-1)?.event, "end");
  assertEquals(logger.lines.map((line) => [line.message, line.frames]), [
    ["live feed behind Redis: older frames not published", 1000],
  ]);
});

/** The device's live stream as Redis holds it now. */
async function liveEntriesNow(device: TestDevice): Promise<LiveEntry[]> {
  return streamEntries(await redis("XRANGE", liveStreamKey(device.id), "-", "+"));
}

Deno.test("ingest publishes only while someone watches; a resume after an unwatched while gets a gap", async () => {
  const device = await createDevice(await createUser());
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
  await settle();
  assertEquals(await liveEntriesNow(device), [], "published with no one watching");

  await watchLive(device);
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:2"))).status, 200);
  const [watched] = await streamIds(device, 1);

  // The viewer left and its mark lapsed: the next frame is stored, not published.
  await redis("DEL", liveWatchKey(device.id));
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:3"))).status, 200);
  await settle();
  assertEquals((await liveEntriesNow(device)).map((entry) => entry.id), [watched]);

  const events = await (await openStream(
    device.owner.token,
    { device_id: device.id, duration: "1" },
    { "last-event-id": `${watched}/0` },
  )).reader.rest();
  assertEquals(events.map((event) => event.event), ["gap", "end"]);
  assertEquals(JSON.parse(events[0]!.data!).after, `${watched}/0`);
});

Deno.test("a stream no one watched: a viewer who comes gets its next frames, and a gap for any it missed", async () => {
  const device = await createDevice(await createUser());
  const encoder = new TextEncoder();
  let writer!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => void (writer = controller),
  });
  const answered = sendTelemetry(device, body, { "content-type": "application/x-ndjson" }, {
    stream: "true",
  });
  const base = Date.UTC(2026, 10, 26, 10);
  let sent = 0;
  const send = (count: number) => {
    let text = "";
    for (const end = sent + count; sent < end; sent++) {
      text += JSON.stringify({ roll: sent, ts: new Date(base + sent * 100).toISOString() }) + "\n";
    }
    writer.enqueue(encoder.encode(text));
  };
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // Two seconds unwatched: stored in chunks, none published.
  for (let i = 0; i < 4; i++) {
    send(5);
    await pause(500);
  }
  assertEquals(await liveEntriesNow(device), [], "published with no one watching");

  const { reader } = await openStream(device.owner.token, { device_id: device.id, duration: "5" });
  const sentBeforeViewer = sent;
  for (let i = 0; i < 8; i++) {
    send(5);
    await pause(250);
  }
  writer.close();
  const answer = await jsonOf(await answered);
  assertEquals([answer.status, answer.body.accepted], [200, sent]);

  const frames: number[] = [];
  let skipped = 0;
  while (!frames.includes(sent - 1)) {
    const event = await reader.nextEvent();
    if (!event || event.event === "end") throw new Error(`the last frame never came: ${frames}`);
    if (event.event === "frame") frames.push(JSON.parse(event.data!).roll_degrees);
    if (event.event === "gap") skipped += JSON.parse(event.data!).skipped ?? 0;
  }
  await reader["reader"].cancel();
  assertEquals(new Set(frames).size, frames.length, "a frame was sent twice");
  assert(frames.length > 0 && frames.every((roll) => roll >= 0 && roll < sent));
  // Every frame sent once the viewer was there arrived, or was counted in a gap.
  const missed = Array.from({ length: sent - sentBeforeViewer }, (_, i) => sentBeforeViewer + i)
    .filter((roll) => !frames.includes(roll));
  assert(missed.length <= skipped, `missed ${missed.length} frames, told of ${skipped}`);
});

Deno.test("telemetry-live answers another tenant's device as it answers an unknown one", async () => {
  const alice = await createDevice(await createUser());
  const bob = await createUser();
  const theirs = await jsonOf(
    await callFunction("telemetry-live", {
      headers: { authorization: `Bearer ${bob.token}` },
      query: { device_id: alice.id },
    }),
  );
  const unknownId = crypto.randomUUID();
  const unknown = await jsonOf(
    await callFunction("telemetry-live", {
      headers: { authorization: `Bearer ${bob.token}` },
      query: { device_id: unknownId },
    }),
  );
  assertEquals([theirs.status, unknown.status], [404, 404]);
  assertEquals(theirs.body.error.code, unknown.body.error.code);
  assertEquals(
    theirs.body.error.message.replace(alice.id, "<id>"),
    unknown.body.error.message.replace(unknownId, "<id>"),
  );
});

Deno.test("telemetry-live answers 401 without a token and 400 naming bad input", async () => {
  const device = await createDevice(await createUser());
  const anonymous = await jsonOf(
    await callFunction("telemetry-live", { query: { device_id: device.id } }),
  );
  assertEquals(anonymous.status, 401);
  const headers = { authorization: `Bearer ${device.owner.token}` };
  const cases: [Record<string, string>, Record<string, string>, string][] = [
    [{ device_id: device.id, since: "1" }, {}, "since"],
    [{ device_id: "nope" }, {}, "device_id"],
    [{ device_id: device.id, duration: "0" }, {}, "duration"],
    [{ device_id: device.id }, { "last-event-id": "42" }, "Last-Event-ID"],
    [{ device_id: device.id }, { "last-event-id": "1796101940648-0/x" }, "Last-Event-ID"],
  ];
  for (const [query, extra, parameter] of cases) {
    const { status, body } = await jsonOf(
      await callFunction("telemetry-live", { headers: { ...headers, ...extra }, query }),
    );
    assertEquals([status, body.error.details[0].parameter], [400, parameter]);
  }
});

Deno.test("telemetry-live says Redis is down and ingest still answers at once", async () => {
  const device = await createDevice(await createUser());
  await stopRedis();
  try {
    const { reader } = await openStream(device.owner.token, { device_id: device.id });
    const events = await reader.rest();
    assertEquals(events.map((event) => event.event), ["unavailable"]);
    assertEquals(events[0]?.retry, "5000");
    const started = performance.now();
    const { status } = await jsonOf(await sendTelemetry(device, "roll:1"));
    assertEquals(status, 200);
    assert(performance.now() - started < 2000, "ingest was slowed by the live feed");
  } finally {
    await restartRedis();
  }
});
