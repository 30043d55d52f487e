/**
 * The benchmark's baselines and its traffic guard, on the running stack: InfluxDB started in a
 * folder of its own stores the line protocol it acknowledges and leaves nothing behind; the COPY
 * floor stores the typed rows it is given; other devices' requests are counted as other traffic
 * and the benchmark's own are not.
 */
import { assertEquals } from "@std/assert";
import { copyRows } from "../../scripts/bench/copy_floor.ts";
import { realisticFrame } from "../../scripts/bench/frames.ts";
import { countPoints, influxMissing, startInflux } from "../../scripts/bench/influx_server.ts";
import { lineProtocol } from "../../scripts/bench/line_protocol.ts";
import { otherTrafficSince, trafficMark } from "../../scripts/bench/other_traffic.ts";
import { isAlive } from "../../scripts/stack/processes.ts";
import { createDevice, createUser, sendTelemetry, sql } from "./_helpers.ts";

Deno.test({
  name: "startInflux serves writes that it stores and stop leaves no process or folder",
  ignore: influxMissing() !== null,
  fn: async () => {
    const server = await startInflux();
    const folder = server.folder;
    assertEquals((await Deno.stat(`${folder}/influxdb.conf`)).isFile, true);
    try {
      const base = Date.parse("2026-12-01T00:00:00Z");
      const frames = Array.from(
        { length: 500 },
        (_, i) => realisticFrame(i, new Date(base + i).toISOString()),
      );
      const write = await server.write(lineProtocol("device-a", frames));
      assertEquals(write.status, 204, await write.text());
      assertEquals(await countPoints(server), 500);
      assertEquals(await countPoints(server, "motor4_pwm"), 500);
    } finally {
      await server.stop();
    }
    assertEquals(isAlive(server.pid), false);
    assertEquals(await Deno.stat(folder).then(() => true, () => false), false);
  },
});

Deno.test("copyRows stores the typed rows it is given", async () => {
  const owner = await createUser();
  const device = await createDevice(owner);
  const base = Date.parse("2026-12-01T01:00:00Z");
  const rows = Array.from({ length: 1000 }, (_, i) => ({
    deviceId: device.id,
    frame: realisticFrame(i, new Date(base + i).toISOString()),
  }));
  await copyRows(rows);
  assertEquals(
    await sql(`select count(*), count(distinct recorded_at), sum(motor1_pwm), bool_and(armed),
                      min(flight_mode)
               from telemetry.telemetry where device_id = '${device.id}'`),
    `1000|1000|${rows.reduce((sum, r) => sum + Number(r.frame.motor1_pwm), 0)}|t|AUTO`,
  );
});

Deno.test("otherTrafficSince counts other owners' requests, not the benchmark owner's", async () => {
  const bench = await createUser();
  const other = await createUser();
  const benchDevice = await createDevice(bench);
  const otherDevice = await createDevice(other);
  const mark = await trafficMark();
  const sent = [
    await sendTelemetry(benchDevice, "roll:1\nroll:2"),
    await sendTelemetry(otherDevice, "roll:1\nroll:2\nroll:3"),
  ];
  for (const response of sent) assertEquals(response.status, 200, await response.text());
  // As the benchmark sees it (bench's requests are its own), and as the other owner would.
  assertEquals(await otherTrafficSince(bench.id, mark), { requests: 1, frames: 3 });
  assertEquals(await otherTrafficSince(other.id, mark), { requests: 1, frames: 2 });
});
