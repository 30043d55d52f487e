/**
 * telemetry-query end to end: through the gateway to the real function, PostgREST (RLS),
 * Postgres (telemetry ∪ staging) and Redis (the cache) of the local stack.
 *
 * Frames are seeded with public.ingest_telemetry in SQL, so the data is exact; tests of cache
 * freshness ingest through telemetry-parse, which bumps the cache generations as it should.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { signHs256 } from "../../shared/auth/jwt.ts";
import { USER_TOKEN_ISSUER } from "../../scripts/stack/keys.ts";
import {
  callFunction,
  createDevice,
  createUser,
  jsonOf,
  sendTelemetry,
  sql,
  stackKeys,
  type TestDevice,
  type TestUser,
} from "./_helpers.ts";
import { restartRedis, stopRedis } from "./_redis.ts";
import { stackPath } from "../../scripts/stack/layout.ts";

interface Seed {
  "recorded_at": string;
  "roll_degrees": number;
  "flight_id"?: string;
}

/** Stores frames for a device as ingest does, in one statement; returns them as given. */
async function ingest(device: TestDevice, frames: Seed[]): Promise<Seed[]> {
  const json = JSON.stringify(frames).replaceAll("'", "''");
  await sql(`select public.ingest_telemetry('${device.id}', '${json}'::jsonb)`);
  return frames;
}

interface Tenant {
  user: TestUser;
  device: TestDevice;
  frames: Seed[];
}

/**
 * A user with one device and frames a second apart, at a random time of late November; the
 * first two frames are of flight "f1", the rest of "f2", unless one flight id is given for all.
 */
async function tenant(rolls: number[], flightId?: string): Promise<Tenant> {
  const user = await createUser();
  const device = await createDevice(user);
  const base = Date.parse("2026-11-20T10:00:00Z") + Math.floor(Math.random() * 1e6) * 1000;
  const frames = await ingest(
    device,
    rolls.map((roll, i) => ({
      recorded_at: new Date(base + i * 1000).toISOString(),
      roll_degrees: roll,
      flight_id: flightId ?? (i < 2 ? "f1" : "f2"),
    })),
  );
  return { user, device, frames };
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function query(headers: Record<string, string>, params: Record<string, string> = {}) {
  return await jsonOf(await callFunction("telemetry-query", { headers, query: params }));
}

function ids(body: { data: { device_id: string }[] }): string[] {
  return [...new Set(body.data.map((row) => row.device_id))];
}

function rolls(body: { data: { roll_degrees: number }[] }): number[] {
  return body.data.map((row) => row.roll_degrees);
}

Deno.test("telemetry-query answers the caller's frames in the reference shape", async () => {
  const alice = await tenant([10, 30, 20]);
  const { status, body } = await query(bearer(alice.user.token));
  assertEquals(status, 200);
  assertEquals(Object.keys(body).sort(), [
    "cached",
    "count",
    "count_method",
    "data",
    "limit",
    "next_cursor",
    "offset",
    "success",
    "timestamp",
  ]);
  assertEquals(
    [body.success, body.count, body.count_method, body.limit, body.offset, body.cached],
    [true, 3, "exact", 100, 0, false],
  );
  assertMatch(body.timestamp, /^\d{4}-\d{2}-\d{2}T/);
  assertEquals(ids(body), [alice.device.id]);
  // Default order: created_at desc, then recorded_at desc (one ingest shares one created_at).
  assertEquals(rolls(body), [20, 30, 10]);
  const row = body.data[0];
  for (const column of ["id", "device_id", "flight_id", "recorded_at", "created_at", "raw_data"]) {
    assert(column in row, column);
  }
  assertEquals(new Date(row.recorded_at).toISOString(), alice.frames[2]!.recorded_at);
});

Deno.test("telemetry-query pages, orders, filters and projects", async () => {
  const alice = await tenant([10, 30, 20, 40]);
  const headers = bearer(alice.user.token);

  // An order no index serves needs a window of at most 10 minutes.
  const page = await query(headers, {
    limit: "2",
    offset: "1",
    order_by: "roll_degrees",
    desc: "false",
    from: alice.frames[0]!.recorded_at,
    to: new Date(Date.parse(alice.frames[0]!.recorded_at) + 600_000).toISOString(),
  });
  assertEquals([page.status, page.body.count, page.body.limit, page.body.offset], [200, 4, 2, 1]);
  assertEquals(rolls(page.body), [20, 30]);

  const byTime = await query(headers, { order_by: "recorded_at", desc: "true" });
  assertEquals(rolls(byTime.body), [40, 20, 30, 10]);

  const flight = await query(headers, { flight_id: "f2" });
  assertEquals([flight.body.count, rolls(flight.body).sort()], [2, [20, 40]]);

  // from is inclusive, to exclusive.
  const window = await query(headers, {
    from: alice.frames[1]!.recorded_at,
    to: alice.frames[3]!.recorded_at,
    order_by: "recorded_at",
    desc: "false",
  });
  assertEquals([window.body.count, rolls(window.body)], [2, [30, 20]]);

  const projected = await query(headers, { fields: "roll_degrees,pitch_degrees", limit: "1" });
  assertEquals(Object.keys(projected.body.data[0]).sort(), [
    "created_at",
    "device_id",
    "flight_id",
    "id",
    "pitch_degrees",
    "recorded_at",
    "roll_degrees",
  ]);

  const past = await query(headers, { offset: "50" });
  assertEquals([past.status, past.body.data, past.body.count], [200, [], 4]);
});

Deno.test("telemetry-query keeps tenants apart, by RLS, device filter and cache", async () => {
  const alice = await tenant([1, 2, 3]);
  const bob = await tenant([7, 8]);

  const a = await query(bearer(alice.user.token));
  const b = await query(bearer(bob.user.token));
  assertEquals([ids(a.body), a.body.count], [[alice.device.id], 3]);
  assertEquals([ids(b.body), b.body.count], [[bob.device.id], 2]);

  // The other tenant's device answers 404 exactly like a device that does not exist (as
  // telemetry-live and telemetry-analytics do), in JSON and in the streamed formats.
  const unknown = crypto.randomUUID();
  for (const format of ["json", "csv", "ndjson"]) {
    const peek = await query(bearer(bob.user.token), { device_id: alice.device.id, format });
    const none = await query(bearer(bob.user.token), { device_id: unknown, format });
    assertEquals([peek.status, peek.body.error.code], [404, "device_not_found"], format);
    assertEquals(
      peek.body.error.message.replace(alice.device.id, "<id>"),
      none.body.error.message.replace(unknown, "<id>"),
    );
    assertEquals(none.status, 404);
  }
  const peekBack = await query(bearer(alice.user.token), { device_id: bob.device.id });
  assertEquals([peekBack.status, peekBack.body.success], [404, false]);
  // Service role sees every tenant's device, and an unknown one is 404 for it too.
  const keys = await stackKeys();
  const service = await query({ apikey: keys.secretKey }, { device_id: bob.device.id });
  assertEquals([service.status, ids(service.body)], [200, [bob.device.id]]);
  assertEquals((await query({ apikey: keys.secretKey }, { device_id: unknown })).status, 404);

  // The same parameters from the other tenant never hit the first one's cache entry.
  const params = { limit: "7", "order_by": "recorded_at" };
  const first = await query(bearer(alice.user.token), params);
  const again = await query(bearer(alice.user.token), params);
  assertEquals([first.body.cached, again.body.cached], [false, true]);
  const other = await query(bearer(bob.user.token), params);
  assertEquals([other.body.cached, ids(other.body), other.body.count], [false, [bob.device.id], 2]);
});

Deno.test("telemetry-query answers 400 naming each bad parameter", async () => {
  const user = await createUser();
  const cases: [string, string][] = [
    ["limit", "0"],
    ["limit", "1001"],
    ["limit", "ten"],
    ["offset", "-1"],
    ["offset", "1.5"],
    ["order_by", "password"],
    ["order_by", "roll"],
    ["desc", "sometimes"],
    ["device_id", "not-a-uuid"],
    ["flight_id", ""],
    ["flight_id", "f".repeat(65)],
    ["from", "yesterday"],
    ["to", "2026-02-30"],
    ["fields", "roll_degrees,secret"],
    ["fields", ""],
    ["select", "*"],
  ];
  for (const [name, value] of cases) {
    const { status, body } = await query(bearer(user.token), { [name]: value });
    assertEquals(status, 400, `${name}=${value}`);
    assertEquals(body.success, false);
    assertEquals(body.error.code, "invalid_parameter");
    assertEquals(body.error.details[0].parameter, name, `${name}=${value}`);
    assert(body.error.message.includes(`"${name}"`), body.error.message);
  }
  const after = await query(bearer(user.token), { from: "2026-11-02", to: "2026-11-01" });
  assertEquals([after.status, after.body.error.details[0].parameter], [400, "from"]);
});

Deno.test("telemetry-query answers 401 without a valid token and 403 for anon keys", async () => {
  const keys = await stackKeys();
  const none = await query({});
  assertEquals([none.status, none.body.error.code], [401, "missing_credentials"]);
  const garbage = await query(bearer("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad"));
  assertEquals([garbage.status, garbage.body.error.code], [401, "invalid_token"]);
  const expired = await signHs256(
    { sub: crypto.randomUUID(), role: "authenticated", exp: Math.floor(Date.now() / 1000) - 60 },
    keys.jwtSecret,
  );
  assertEquals((await query(bearer(expired))).status, 401);
  assertEquals((await query({ apikey: "sb_secret_not-a-real-key" })).status, 401);
  const publishable = await query({ apikey: keys.publishableKey });
  assertEquals([publishable.status, publishable.body.error.code], [403, "forbidden"]);
  assertEquals((await query(bearer(keys.anonKey))).status, 403);
});

Deno.test("telemetry-query shows service role every tenant's frames", async () => {
  const keys = await stackKeys();
  const flight = `shared-${crypto.randomUUID()}`;
  const alice = await tenant([1, 2], flight);
  const bob = await tenant([3], flight);
  for (
    const headers of [
      { apikey: keys.secretKey },
      bearer(keys.secretKey),
      bearer(keys.serviceRoleKey),
    ]
  ) {
    const a = await query(headers, { device_id: alice.device.id });
    const b = await query(headers, { device_id: bob.device.id });
    assertEquals([a.status, a.body.count, a.body.count_method, rolls(a.body)], [200, 2, "exact", [
      2,
      1,
    ]]);
    assertEquals([b.body.count, rolls(b.body)], [1, [3]]);
    // Without a device filter the rows are every tenant's, newest first.
    const both = await query(headers, { flight_id: flight, order_by: "recorded_at" });
    assertEquals([both.status, both.body.count, both.body.count_method], [200, 3, "exact"]);
    assertEquals(rolls(both.body).sort(), [1, 2, 3]);
    assertEquals(new Set(ids(both.body)), new Set([alice.device.id, bob.device.id]));
  }
});

Deno.test("telemetry-query accepts a legacy HS256 user token and applies RLS to it", async () => {
  const keys = await stackKeys();
  const alice = await tenant([5, 6]);
  await tenant([9]);
  const now = Math.floor(Date.now() / 1000);
  const token = await signHs256(
    {
      sub: alice.user.id,
      role: "authenticated",
      aud: "authenticated",
      iss: USER_TOKEN_ISSUER,
      iat: now,
      exp: now + 600,
    },
    keys.jwtSecret,
  );
  const { status, body } = await query(bearer(token));
  assertEquals([status, ids(body), body.count], [200, [alice.device.id], 2]);
});

Deno.test("telemetry-query serves a repeat from the cache and is never stale after an ingest", async () => {
  const alice = await tenant([1, 2]);
  const bob = await tenant([3]);
  const keys = await stackKeys();
  const params = { "order_by": "recorded_at" };

  const first = await query(bearer(alice.user.token), params);
  const repeat = await query(bearer(alice.user.token), params);
  assertEquals([first.body.cached, repeat.body.cached], [false, true]);
  assertEquals(repeat.body.data, first.body.data);
  assertEquals(repeat.body.count, 2);
  await query(bearer(bob.user.token), params);
  const service = { apikey: keys.secretKey };
  await query(service, { device_id: alice.device.id });
  assertEquals((await query(service, { device_id: alice.device.id })).body.cached, true);

  // A new frame through telemetry-parse (which bumps the generations once it is stored).
  const sent = await jsonOf(await sendTelemetry(alice.device, "roll:42"));
  assertEquals(sent.status, 200);

  const after = await query(bearer(alice.user.token), params);
  assertEquals([after.body.cached, after.body.count], [false, 3]);
  assert(rolls(after.body).includes(42));
  const serviceAfter = await query(service, { device_id: alice.device.id });
  assertEquals([serviceAfter.body.cached, serviceAfter.body.count], [false, 3]);
  // Bob's answers did not change, so his entry is still good.
  const bobAgain = await query(bearer(bob.user.token), params);
  assertEquals([bobAgain.body.cached, bobAgain.body.count], [true, 1]);
});

Deno.test("telemetry-query answers correctly, uncached, while Redis is down", async () => {
  const alice = await tenant([1, 2]);
  const headers = bearer(alice.user.token);
  assertEquals((await query(headers)).body.cached, false);
  assertEquals((await query(headers)).body.cached, true);
  const logFile = stackPath("logs", "function-telemetry-query.log");
  const logLength = (await Deno.readTextFile(logFile)).length;

  await stopRedis();
  try {
    const down = await query(headers);
    assertEquals([down.status, down.body.cached, down.body.count], [200, false, 2]);
    // A frame stored while Redis is down shows at once: nothing stale can be served.
    await ingest(alice.device, [{ recorded_at: "2026-11-30T00:00:00.000Z", roll_degrees: 77 }]);
    const fresh = await query(headers);
    assertEquals([fresh.status, fresh.body.cached, fresh.body.count], [200, false, 3]);
    assertEquals(rolls(fresh.body).includes(77), true);
    const log = (await Deno.readTextFile(logFile)).slice(logLength);
    assert(log.includes('"cache unavailable"'), "a cache warning is logged");
  } finally {
    await restartRedis();
  }
  const back = await query(headers);
  assertEquals([back.status, back.body.count], [200, 3]);
});

Deno.test("telemetry-query pages with next_cursor through every frame, in every order, like offset", async () => {
  const alice = await tenant([5, 1, 4, 1, 5, 9, 2, 6, 5, 3]);
  await tenant([7, 7]);
  const headers = bearer(alice.user.token);
  const window = {
    from: alice.frames[0]!.recorded_at,
    to: new Date(Date.parse(alice.frames[0]!.recorded_at) + 600_000).toISOString(),
  };
  for (
    const order of [
      { order_by: "created_at", desc: "true" },
      { order_by: "recorded_at", desc: "false" },
      { order_by: "roll_degrees", desc: "true", ...window },
      { order_by: "pitch_degrees", desc: "false", ...window }, // NULL everywhere: ties on NULL
    ]
  ) {
    const all = await query(headers, { ...order, limit: "10" });
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof query>> = await query(headers, {
        ...order,
        limit: "3",
        ...(cursor ? { cursor } : {}),
      });
      assertEquals(page.status, 200, JSON.stringify(page.body));
      seen.push(...rolls(page.body));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    assertEquals(seen, rolls(all.body), order.order_by);
    assertEquals(seen.length, 10);
    assertEquals(pages, 4);
  }
});

Deno.test("telemetry-query orders by a field over a small device, and answers 400 naming the cap past it", async () => {
  const alice = await tenant([1, 3, 2]);
  const headers = bearer(alice.user.token);
  const small = await query(headers, { order_by: "roll_degrees", desc: "false" });
  assertEquals([small.status, rolls(small.body)], [200, [1, 2, 3]]);
  const flight = await query(headers, { order_by: "roll_degrees", flight_id: "f1" });
  assertEquals([flight.status, rolls(flight.body)], [200, [3, 1]]);

  // The daily rollups say the device has 250,000 more frames: over the 200,000 cap.
  await sql(`insert into telemetry.daily_rollups (device_id, bucket_start, frames,
      altitude_samples, altitude_sum_m, armed_frames, first_frame_at, last_frame_at)
    values ('${alice.device.id}', '2026-10-01T00:00:00Z', 250000, 0, 0, 0,
      '2026-10-01T00:00:00Z', '2026-10-01T23:59:59Z')`);
  const unbounded = await query(headers, { order_by: "battery_voltage_v" });
  assertEquals(
    [unbounded.status, unbounded.body.error.code, unbounded.body.error.details[0].parameter],
    [400, "scope_too_large", "order_by"],
  );
  assertEquals(unbounded.body.error.details[0].cap, 200000);
  assertEquals(unbounded.body.error.details[0].estimate, 250003);
  assertEquals(unbounded.body.error.details[0].narrow_with, ["flight_id", "from", "to"]);
  assert(
    unbounded.body.error.message.includes("cap is 200000") &&
      unbounded.body.error.message.includes("flight_id or from/to"),
    unbounded.body.error.message,
  );
  const csv = await callFunction("telemetry-query", {
    headers,
    query: { order_by: "battery_voltage_v", format: "csv" },
  });
  assertEquals([csv.status, (await csv.json()).error.code], [400, "scope_too_large"]);
  // Narrowed to the day of the frames (not the rollups' day), the same order answers.
  const day = await query(headers, {
    order_by: "roll_degrees",
    from: "2026-11-01T00:00:00Z",
    to: "2026-12-31T00:00:00Z",
  });
  assertEquals([day.status, rolls(day.body)], [200, [3, 2, 1]]);

  const cursor = (await query(headers, { limit: "1", order_by: "recorded_at" })).body.next_cursor;
  assert(cursor, "three frames: a next page");
  const other = await query(headers, { cursor: "bm90LWEtY3Vyc29y" });
  assertEquals([other.status, other.body.error.details[0].parameter], [400, "cursor"]);
});

Deno.test("telemetry-query counts exactly up to 1000 frames and estimates beyond", async () => {
  const user = await createUser();
  const device = await createDevice(user);
  await sql(`insert into telemetry.telemetry (device_id, recorded_at, roll_degrees)
    select '${device.id}', timestamptz '2026-11-10T00:00:00Z' + i * interval '1 s', i
    from generate_series(1, 1500) as i`);
  const headers = bearer(user.token);
  const many = await query(headers, { limit: "10" });
  assertEquals([many.status, many.body.count_method, many.body.data.length], [
    200,
    "estimated",
    10,
  ]);
  assert(many.body.count > 1000, String(many.body.count));
  const few = await query(headers, {
    from: "2026-11-10T00:00:00Z",
    to: "2026-11-10T00:05:00Z",
  });
  assertEquals([few.body.count, few.body.count_method], [299, "exact"]);
});

Deno.test("telemetry-query streams every frame as CSV and NDJSON, pages of the same order", async () => {
  const alice = await tenant([3, 1, 2], 'flight,"one"');
  const headers = bearer(alice.user.token);
  const csv = await callFunction("telemetry-query", {
    headers,
    query: { format: "csv", order_by: "recorded_at", desc: "false", fields: "roll_degrees" },
  });
  assertEquals([csv.status, csv.headers.get("content-type")], [200, "text/csv; charset=utf-8"]);
  assertMatch(csv.headers.get("server-timing") ?? "", /^fn;dur=[\d.]+/);
  const lines = (await csv.text()).trimEnd().split("\r\n");
  assertEquals(lines[0], "id,device_id,flight_id,recorded_at,created_at,roll_degrees");
  assertEquals(lines.length, 4);
  assertEquals(lines.slice(1).map((line) => line.split(",").at(-1)), ["3", "1", "2"]);
  assert(lines[1]!.includes(`"flight,""one"""`), lines[1]);

  const ndjson = await callFunction("telemetry-query", {
    headers,
    query: { format: "ndjson", order_by: "created_at" },
  });
  assertEquals(ndjson.headers.get("content-type"), "application/x-ndjson");
  const rows = (await ndjson.text()).trimEnd().split("\n").map((line) => JSON.parse(line));
  assertEquals(rows.map((row) => row.roll_degrees), [2, 1, 3]);
  assertEquals(new Set(rows.map((row) => row.device_id)), new Set([alice.device.id]));
});

Deno.test("telemetry-query's CSV export neutralises cells a spreadsheet would run as formulas", async () => {
  const user = await createUser();
  const device = await createDevice(user);
  const sent = await sendTelemetry(
    device,
    "mode:=1+1,flight_id:@x,alt:-5,roll:-1.5,ts:2026-11-21T10:00:00Z",
  );
  assertEquals(sent.status, 200, await sent.text());
  const csv = await callFunction("telemetry-query", {
    headers: bearer(user.token),
    query: {
      format: "csv",
      device_id: device.id,
      fields: "flight_mode,altitude_m,roll_degrees,raw_data",
    },
  });
  assertEquals(csv.status, 200);
  const [header, row, ...rest] = (await csv.text()).trimEnd().split("\r\n");
  assertEquals(rest, []);
  const cells = Object.fromEntries(
    header!.split(",").map((name, i) => [name, parseCsvLine(row!)[i]]),
  );
  assertEquals(
    [cells.flight_id, cells.flight_mode, cells.altitude_m, cells.roll_degrees],
    ["'@x", "'=1+1", "-5", "-1.5"],
  );
  assertEquals(cells.raw_data, "mode:=1+1,flight_id:@x,alt:-5,roll:-1.5,ts:2026-11-21T10:00:00Z");
});

/** Splits one RFC 4180 line into its cells (quoted cells unquoted). */
function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  for (const match of line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)) {
    const cell = match[1]!;
    cells.push(cell.startsWith('"') ? cell.slice(1, -1).replaceAll('""', '"') : cell);
    if (match[2] === "") break;
  }
  return cells;
}

Deno.test("telemetry-query reports the time spent in the function in Server-Timing", async () => {
  const alice = await tenant([1]);
  const response = await callFunction("telemetry-query", { headers: bearer(alice.user.token) });
  await response.body?.cancel();
  assertMatch(
    response.headers.get("server-timing") ?? "",
    /^fn;dur=\d+\.\d\d, db;dur=\d+\.\d\d, cache;dur=\d+\.\d\d$/,
  );
});
