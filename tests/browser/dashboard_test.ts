/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core, against the running local stack, with a bounded simulator run of its own
 * (its own state file, so its own operator and drones). It signs in with a wrong token, then a
 * right one, picks a drone, sees live points and a moving track, loads a past flight, and saves
 * a screenshot in .test-artifacts/ (git-ignored).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { chromium, type Page } from "playwright-core";
import { join } from "node:path";
import { signHs256 } from "../../shared/auth/jwt.ts";
import { loadKeys, mintUserToken } from "../../scripts/stack/keys.ts";
import { GATEWAY_URL, PROJECT_ROOT } from "../../scripts/stack/layout.ts";

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

      const page = await browser.newPage({ viewport: { width: 1400, height: 1250 } });
      const foreign: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(`${GATEWAY_URL}/`)) foreign.push(request.url());
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

      await page.fill("#token", token);
      await page.click("#signin-button");
      await page.locator(`#devices button[data-device-id="${drone.id}"]`).waitFor();
      assertEquals(await page.locator("#devices button").count(), 2, "only this operator's drones");
      await page.click(`#devices button[data-device-id="${drone.id}"]`);
      assertEquals(await page.textContent("#device-title"), drone.name);
      await page.locator("#live-status", { hasText: "live" }).waitFor();

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

      // A past flight loads through telemetry-query.
      await waitFor("the past flight in the picker", async () => {
        const values = await page.locator("#flights option").evaluateAll((options) =>
          options.map((option) => option.getAttribute("value"))
        );
        if (values.includes(pastFlight)) return true;
        await page.click(`#devices button[data-device-id="${drone.id}"]`); // reloads the list
        return null;
      });
      await page.selectOption("#flights", pastFlight);
      await page.click("#load-flight");
      await page.locator(`#flight-summary[data-frames="${PAST_FRAMES}"]`).waitFor();
      assertEquals(
        await page.locator("#flight-track").getAttribute("data-points"),
        String(PAST_FRAMES),
      );
      assertEquals(await page.textContent("#error"), "");
      assertEquals(foreign, [], "the page loads nothing from outside the stack");

      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });
    } finally {
      await browser.close();
      simulator.kill("SIGTERM");
      await simulator.output();
      await Deno.remove(state).catch(() => {});
    }
  },
});
