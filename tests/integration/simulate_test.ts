/**
 * `deno task simulate` end to end, bounded: two drones for a few seconds through the gateway;
 * every frame the summary counts as stored is in Postgres, with a flight id and a flight mode.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { PROJECT_ROOT } from "../../scripts/stack/layout.ts";
import { sql } from "./_helpers.ts";

Deno.test("deno task simulate flies drones that store their frames through the API", async () => {
  const stateFile = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.remove(stateFile);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "-q",
        "simulate",
        "--drones",
        "2",
        "--hz",
        "10",
        "--duration",
        "3",
        "--state",
        stateFile,
      ],
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
    const drones = [
      ...stdout.matchAll(
        /\(device ([0-9a-f-]{36})\): (\d+) produced, (\d+) stored, 0 rejected, 0 failed/g,
      ),
    ];
    assertEquals(drones.length, 2, stdout);
    // The ids are named as the run starts, before any summary (README: taken from the log).
    const state = JSON.parse(await Deno.readTextFile(stateFile));
    const head = stdout.slice(0, stdout.indexOf("Summary"));
    assertMatch(head, new RegExp(`Owner \\(user id\\): ${state.ownerId}`));
    for (const [, id] of drones) assertMatch(head, new RegExp(`sim-drone-\\d: device_id ${id}`));
    for (const [, id, produced, stored] of drones) {
      assert(Number(stored) >= 20, stdout);
      assertEquals(stored, produced);
      assertEquals(
        await sql(
          `select count(*) || ' ' || count(distinct recorded_at) || ' ' || count(flight_id) || ' ' || count(flight_mode)
           from public.telemetry_frames where device_id = '${id}'`,
        ),
        `${stored} ${stored} ${stored} ${stored}`,
      );
    }
  } finally {
    await Deno.remove(stateFile).catch(() => {});
  }
});
