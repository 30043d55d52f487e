/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core, against the running local stack, with a bounded simulator run of its own
 * (its own state file, so its own operator and drones). It signs in with a wrong token, then a
 * right one, picks a drone, sees live points and a moving track, loads a past flight, and saves
 * a screenshot in .test-artifacts/ (git-ignored). Also (issue 20 and 16): a drone at 5 Hz reads
 * as seen seconds ago even when its last_seen_at is older; the flight in progress is not a past
 * flight; the newest past flight is shown without a click; a device whose only frame is 108 s old
 * is not "live" and its axes span a minute and a few metres; the list follows a device created,
 * renamed and revoked while the page is open; nothing answers 4xx but the refused token.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { chromium, type Page } from "playwright-core";
import { join } from "node:path";
import { signHs256 } from "../../shared/auth/jwt.ts";
import { loadKeys, mintUserToken } from "../../scripts/stack/keys.ts";
import { GATEWAY_URL, PROJECT_ROOT } from "../../scripts/stack/layout.ts";
import { psql } from "../../scripts/stack/postgres.ts";

const CHROMIUM = "/usr/bin/chromium";
const FUNCTIONS_URL = `${GATEWAY_URL}/functions/v1`;
const ARTIFACTS = join(PROJECT_ROOT, ".test-artifacts");
const PAST_FRAMES = 20;

interface SimState {
  ownerId: string;
  devices: { id: string; key: string; name: string }[];
}

/** Starts `scripts/simulate.ts` (what `deno task simulate` runs), bounded by --duration. */
function startSimulator(state: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-sys",
      join(PROJECT_ROOT, "scripts", "simulate.ts"),
      ...["--drones", "2", "--hz", "5", "--duration", "90", "--state", state],
    ],
    cwd: PROJECT_ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
}

/** A finished flight two hours ago, sent as the device would and flushed into the rollups. */
async function storePastFlight(deviceKey: string, secretKey: string): Promise<string> {
  const flightId = `browser-past-${crypto.randomUUID().slice(0, 8)}`;
  const start = Date.now() - 2 * 3600_000;
  const lines = Array.from({ length: PAST_FRAMES }, (_, i) =>
    JSON.stringify({
      ts: new Date(start + i * 1000).toISOString(),
      flight_id: flightId,
      alt: 5 + i,
      gps_latitude: 47.39 + i * 0.0001,
      gps_longitude: 8.54 + i * 0.0001,
      bat_v: 16.4 - i * 0.01,
      armed: 1,
    }));
  const parse = await fetch(`${FUNCTIONS_URL}/telemetry-parse`, {
    method: "POST",
    headers: { authorization: `Bearer ${deviceKey}`, "content-type": "application/x-ndjson" },
    body: lines.join("\n"),
  });
  assertEquals(parse.status, 200, await parse.text());
  const flush = await fetch(`${FUNCTIONS_URL}/telemetry-batch-flush`, {
    method: "POST",
    headers: { apikey: secretKey },
  });
  assertEquals(flush.status, 200, await flush.text());
  return flightId;
}

const received = (page: Page, chart: string) =>
  page.locator(`#chart-${chart}`).getAttribute("data-received").then(Number);

/** The [min, max] a chart's scale is drawn over (x in seconds since the epoch). */
async function range(page: Page, chart: string, scale: string): Promise<[number, number]> {
  const ranges = JSON.parse(
    await page.locator(`#chart-${chart}`).getAttribute("data-ranges") ?? "{}",
  );
  return ranges[scale];
}

/** The device list's note for a device, e.g. "dtk_1234… · seen 2 s ago". */
const note = (page: Page, id: string) =>
  page.locator(`#devices button[data-device-id="${id}"] small`).textContent();

/** A device of the operator's, made through the devices function: its id and key. */
async function createDevice(token: string, name: string): Promise<{ id: string; key: string }> {
  const response = await fetch(`${FUNCTIONS_URL}/devices`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await response.json();
  assertEquals(response.status, 201, JSON.stringify(body));
  return { id: body.device.id, key: body.device.key };
}

Deno.test({
  name: "dashboard shows live charts, a moving track and a past flight in Chromium",
  // playwright-core keeps its own pipes and timers for the browser's lifetime.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const chromiumInstalled = await Deno.stat(CHROMIUM).then(() => true, () => false);
    assert(chromiumInstalled, `${CHROMIUM} is missing: run bash scripts/install.sh`);
    const keys = await loadKeys();
    const state = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.remove(state);
    const simulator = startSimulator(state);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const sim: SimState = await waitFor("the simulator's devices", async () => {
        const parsed: SimState = JSON.parse(await Deno.readTextFile(state));
        return parsed.devices.length === 2 ? parsed : null;
      });
      const drone = sim.devices[0];
      if (!drone) throw new Error("The simulator made no device");
      const pastFlight = await storePastFlight(drone.key, keys.secretKey);
      const token = await mintUserToken(keys, sim.ownerId);

      // last_seen_at is written at most once a minute: make it 39 s old, as a user may find it.
      await psql(`update telemetry.devices set last_seen_at = now() - interval '39 seconds'
                  where owner_id = '${sim.ownerId}'`);

      const page = await browser.newPage({ viewport: { width: 1400, height: 1250 } });
      const foreign: string[] = [];
      const refused: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(`${GATEWAY_URL}/`)) foreign.push(request.url());
      });
      page.on("response", (response) => {
        if (response.status() >= 400) refused.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(`${GATEWAY_URL}/dashboard/`);

      // A token signed with another secret: a clear error, and the sign-in form stays.
      const now = Math.floor(Date.now() / 1000);
      const forged = await signHs256(
        { sub: sim.ownerId, role: "authenticated", aud: "authenticated", exp: now + 600 },
        "not-the-stack-secret-not-the-stack-secret",
      );
      await page.fill("#token", forged);
      await page.click("#signin-button");
      await page.locator("#signin-error").filter({ hasText: "Sign-in failed" }).waitFor();
      assertMatch(
        await page.textContent("#signin-error") ?? "",
        /^Sign-in failed: the API refused this token \(invalid_token: .+\)/,
      );
      assert(await page.isHidden("#app"));
      assertEquals(refused, [`401 ${FUNCTIONS_URL}/devices`], "only the forged token is refused");
      refused.length = 0;

      await page.fill("#token", token);
      await page.click("#signin-button");
      await page.locator(`#devices button[data-device-id="${drone.id}"]`).waitFor();
      assertEquals(await page.locator("#devices button").count(), 2, "only this operator's drones");
      await page.click(`#devices button[data-device-id="${drone.id}"]`);
      assertEquals(await page.textContent("#device-title"), drone.name);
      await page.locator("#live-status", { hasText: "live" }).waitFor();

      // Both drones send at 5 Hz: seen seconds ago, whatever last_seen_at says.
      for (const device of sim.devices) {
        await waitFor(`${device.name} seen seconds ago`, async () => {
          const text = await note(page, device.id) ?? "";
          const seconds = Number(/seen (\d+) s ago/.exec(text)?.[1] ?? NaN);
          return seconds < 10 ? text : null;
        }, 10_000);
      }

      // The newest past flight is shown without a click.
      await page.locator(`#flight-summary[data-frames="${PAST_FRAMES}"]`).waitFor();
      assert(await page.isVisible("#chart-flight"));
      assertEquals(await page.inputValue("#flights"), pastFlight);

      // Live: every chart receives new points and the track moves within a few seconds.
      const before = {
        altitude: await received(page, "altitude"),
        attitude: await received(page, "attitude"),
        battery: await received(page, "battery"),
        motors: await received(page, "motors"),
        position: await page.locator("#track").getAttribute("data-current"),
      };
      await waitFor("new live points in every chart", async () => {
        for (const chart of ["altitude", "attitude", "battery", "motors"] as const) {
          if (await received(page, chart) < before[chart] + 5) return null;
        }
        return true;
      }, 10_000);
      await waitFor("the track's current position to move", async () => {
        const position = await page.locator("#track").getAttribute("data-current");
        return position !== null && position !== before.position ? position : null;
      }, 15_000);

      // The flight in progress, which the analytics list, is not a past flight.
      const current = await page.locator("#device").getAttribute("data-flight-in-progress");
      assert(current, "the page knows the flight in progress");
      await waitFor("the flight in progress among the device's flights", async () => {
        const answer = await fetch(
          `${FUNCTIONS_URL}/telemetry-analytics/flights?device_id=${drone.id}`,
          { headers: { authorization: `Bearer ${token}` } },
        ).then((r) => r.json());
        return answer.flights.some((f: { flight_id: string }) => f.flight_id === current)
          ? true
          : null;
      });
      await page.click(`#devices button[data-device-id="${drone.id}"]`); // lists them again
      await page.locator(`#flights option[value="${pastFlight}"]`).waitFor({ state: "attached" });
      const options = await page.locator("#flights option").evaluateAll((list) =>
        list.map((option) => option.getAttribute("value"))
      );
      assertEquals(options, [pastFlight], "past flights only");
      assert((await range(page, "altitude", "y")).reduce((a, b) => b - a) >= 5);

      // A past flight loads through telemetry-query.
      await page.selectOption("#flights", pastFlight);
      await page.click("#load-flight");
      await page.locator(`#flight-summary[data-frames="${PAST_FRAMES}"]`).waitFor();
      assertEquals(
        await page.locator("#flight-track").getAttribute("data-points"),
        String(PAST_FRAMES),
      );
      // A device made while the page is open shows within 10 s; its only frame is 108 s old:
      // not live, a time axis of a minute, an altitude axis of metres around millimetre noise.
      const stale = await createDevice(token, "stale drone");
      const at = Date.now() - 108_000;
      const sent = await fetch(`${FUNCTIONS_URL}/telemetry-parse`, {
        method: "POST",
        headers: { authorization: `Bearer ${stale.key}`, "content-type": "application/x-ndjson" },
        body: [0, 1, 2].map((i) =>
          JSON.stringify({ ts: new Date(at + i).toISOString(), alt: 41.097 + i * 0.001 })
        ).join("\n"),
      });
      assertEquals(sent.status, 200, await sent.text());
      const staleButton = page.locator(`#devices button[data-device-id="${stale.id}"]`);
      await staleButton.waitFor({ timeout: 10_000 });
      await staleButton.click();
      await page.locator("#last-frame", { hasText: "last frame" }).waitFor();
      await waitFor("the live feed to connect", async () => {
        const state = await page.textContent("#live-status");
        return state === "idle" ? state : null;
      });
      assertMatch(await page.textContent("#last-frame") ?? "", /last frame (1\d\d s|2 min) ago/);
      const [from, to] = await range(page, "altitude", "x");
      assert(to - from <= 120 && from <= at / 1000 && at / 1000 <= to + 1, `x: ${from}..${to}`);
      const [low, high] = await range(page, "altitude", "y");
      assert(high - low >= 5 && low < 41.097 && 41.099 < high, `y: ${low}..${high}`);
      await page.waitForTimeout(11_000);
      assertEquals(await page.textContent("#live-status"), "idle", "still not live");

      // Renamed and revoked elsewhere: the list follows within 10 s.
      await psql(`update telemetry.devices set name = 'renamed drone' where id = '${stale.id}'`);
      const other = sim.devices[1];
      if (!other) throw new Error("The simulator made one device");
      const revoke = await fetch(`${FUNCTIONS_URL}/devices/${stale.id}/revoke`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      assertEquals(revoke.status, 200, await revoke.text());
      await staleButton.locator("span", { hasText: "renamed drone" }).waitFor({ timeout: 10_000 });
      await staleButton.locator("small", { hasText: "revoked" }).waitFor({ timeout: 10_000 });
      assertEquals(await page.textContent("#device-title"), "renamed drone");
      assertMatch(await note(page, other.id) ?? "", /seen \d s ago/);

      assertEquals(await page.textContent("#error"), "");
      assertEquals(foreign, [], "the page loads nothing from outside the stack");
      assertEquals(refused, [], "nothing answers 4xx (favicon.ico included)");
      const icon = await fetch(`${GATEWAY_URL}/favicon.ico`);
      await icon.body?.cancel();
      assertEquals([icon.status, icon.headers.get("content-type")], [200, "image/svg+xml"]);

      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });
    } finally {
      await browser.close();
      // The simulator ends on its own when it cannot make its devices: what it printed says why,
      // which the wait that timed out does not (and kill would throw over the test's own error).
      let endedOnItsOwn = false;
      try {
        simulator.kill("SIGTERM");
      } catch {
        endedOnItsOwn = true;
      }
      const { stderr } = await simulator.output();
      if (endedOnItsOwn) {
        // deno-lint-ignore no-console -- the simulator's own error, for the failure's reader
        console.error(`The simulator had ended:\n${new TextDecoder().decode(stderr)}`);
      }
      await Deno.remove(state).catch(() => {});
    }
  },
});
