/**
 * A device (or an attacker) that trickles its body is cut off at TELEMETRY_BODY_TIMEOUT_MS (10 s
 * on the local stack, the default) with a 408, and holds no database connection meanwhile: the
 * body is read whole before any database call, so no backend works or waits in a transaction for
 * it. The request goes through the gateway on a raw socket, one line a second.
 */
import { assert, assertEquals } from "@std/assert";
import { PORTS } from "../../scripts/stack/layout.ts";
import { createDevice, createUser, jsonOf, sendTelemetry, sql } from "../integration/_helpers.ts";

const BODY_TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();

/** Backends doing something (a query, or an open transaction), other than the one asking. */
async function busyBackends(): Promise<number> {
  return Number(
    await sql(`select count(*) from pg_stat_activity
               where backend_type = 'client backend' and state <> 'idle'
                 and pid <> pg_backend_pid()`),
  );
}

/** Reads one HTTP answer (head, then Content-Length bytes of body) from the socket. */
async function readAnswer(connection: Deno.Conn): Promise<{ status: number; body: string }> {
  const decoder = new TextDecoder();
  let text = "";
  const buffer = new Uint8Array(16_384);
  while (true) {
    const n = await connection.read(buffer);
    if (n === null) throw new Error(`The connection closed mid-answer: ${text}`);
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
    const headEnd = text.indexOf("\r\n\r\n");
    if (headEnd < 0) continue;
    const head = text.slice(0, headEnd);
    const length = Number(head.match(/^content-length:\s*(\d+)/im)?.[1] ?? NaN);
    const body = text.slice(headEnd + 4);
    if (new TextEncoder().encode(body).length >= length) {
      return { status: Number(head.split(" ")[1]), body };
    }
  }
}

Deno.test("telemetry-parse answers 408 to a trickled body at the timeout without holding a database connection", async () => {
  const device = await createDevice(await createUser());
  // One request first, so that the device's key is cached and the only database work ahead
  // would be storing.
  assertEquals((await jsonOf(await sendTelemetry(device, "roll:1"))).status, 200);
  assertEquals(await busyBackends(), 0, "the database is quiet before the trickle");

  const connection = await Deno.connect({ hostname: "127.0.0.1", port: PORTS.gateway });
  await connection.write(encoder.encode(
    "POST /functions/v1/telemetry-parse HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
      `Authorization: Bearer ${device.key}\r\nContent-Type: text/plain\r\n` +
      "Transfer-Encoding: chunked\r\n\r\n",
  ));
  const started = performance.now();
  let answered = false;
  const answer = readAnswer(connection).finally(() => answered = true);

  let mostBusy = 0;
  let linesSent = 0;
  for (let second = 0; second < 20 && !answered; second++) {
    const line = `roll:${second},ts:2026-11-30T09:00:${String(second).padStart(2, "0")}Z\n`;
    try {
      await connection.write(encoder.encode(`${line.length.toString(16)}\r\n${line}\r\n`));
      linesSent++;
    } catch {
      break; // the server has closed the connection
    }
    mostBusy = Math.max(mostBusy, await busyBackends());
    await Promise.race([answer, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  }
  // No answer after 20 s: end the body, so that a missing deadline fails here instead of hanging.
  if (!answered) await connection.write(encoder.encode("0\r\n\r\n")).catch(() => {});
  const { status, body } = await answer;
  const elapsed = performance.now() - started;
  connection.close();

  assertEquals(status, 408, body);
  const error = JSON.parse(body).error;
  assertEquals([error.code, error.details], ["body_timeout", { timeout_ms: BODY_TIMEOUT_MS }]);
  assert(
    elapsed >= BODY_TIMEOUT_MS - 500 && elapsed < BODY_TIMEOUT_MS + 3_000,
    `cut off after ${Math.round(elapsed)} ms`,
  );
  assert(linesSent >= 9, `only ${linesSent} lines were trickled`);
  assertEquals(mostBusy, 0, "a backend was busy while the body trickled");
  assertEquals(
    await sql(`select count(*) from public.telemetry_frames where device_id = '${device.id}'`),
    "1",
    "nothing of the cut-off body is stored",
  );
});
