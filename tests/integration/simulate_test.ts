/**
 * `deno task simulate` end to end, bounded: two drones for a few seconds through the gateway;
 * every frame the summary counts as stored is in Postgres, with a flight id and a flight mode.
 */
import { assert, assertEquals } from "@std/assert";
import { PROJECT_ROOT } from "../../scripts/stack/layout.ts";
import { sql } from "./_helpers.ts";

Deno.test("deno task simulate flies drones that store their frames through the API", async () => {
  const state = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.remove(state);
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
        state,
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
    await Deno.remove(state).catch(() => {});
  }
});
