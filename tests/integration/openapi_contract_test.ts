/**
 * The OpenAPI document (GET /config/openapi.json) against the real functions: real requests go
 * through the gateway, and every answer must be listed in the document for its path, method and
 * status, with its content type, and a JSON answer must validate against the documented schema
 * (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it, formats checked).
 */
import { assert, assertEquals } from "@std/assert";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import {
  callFunction,
  createDevice,
  createUser,
  FUNCTIONS_URL,
  sendTelemetry,
  stackKeys,
  type TestDevice,
  type TestUser,
} from "./_helpers.ts";

// deno-lint-ignore no-explicit-any -- the document is JSON walked by path
type Json = any;

/** Checks answers against the document; `checked` lists each path, method and status seen. */
class Contract {
  readonly checked = new Set<string>();
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(readonly document: Json) {
    addFormats.default(this.#ajv);
  }

  /** Reads the answer and throws unless the document lists it and its body fits the schema. */
  async check(path: string, method: string, response: Response): Promise<void> {
    const text = await response.text();
    const operation = this.document.paths[path]?.[method];
    assert(operation, `${method.toUpperCase()} ${path} is not in the document`);
    const status = String(response.status);
    const answer = operation.responses[status];
    assert(
      answer,
      `${method.toUpperCase()} ${path} answered ${status}, which the document does not list: ${
        text.slice(0, 300)
      }`,
    );
    const type = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    const media = answer.content?.[type];
    assert(media, `${method.toUpperCase()} ${path} ${status} answered ${type}, not documented`);
    this.checked.add(`${method.toUpperCase()} ${path} ${status}`);
    if (type !== "application/json") return;
    const key = `${method} ${path} ${status}`;
    let validate = this.#validators.get(key);
    if (!validate) {
      // The schema refers to #/components/...: compile it with the components beside it.
      validate = this.#ajv.compile({ ...media.schema, components: this.document.components });
      this.#validators.set(key, validate);
    }
    const body = JSON.parse(text);
    if (!validate(body)) {
      throw new Error(
        `${method.toUpperCase()} ${path} ${status} does not fit the document: ${
          this.#ajv.errorsText(validate.errors)
        }\n${text.slice(0, 500)}`,
      );
    }
  }
}

let contractPromise: Promise<Contract> | null = null;

async function contract(): Promise<Contract> {
  contractPromise ??= (async () => {
    const keys = await stackKeys();
    const response = await callFunction("config", {
      path: "/openapi.json",
      headers: { apikey: keys.publishableKey },
    });
    assertEquals(response.status, 200);
    return new Contract(await response.json());
  })();
  return await contractPromise;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function fixtures(): Promise<{ user: TestUser; device: TestDevice; other: TestDevice }> {
  const user = await createUser();
  const device = await createDevice(user);
  const other = await createDevice(await createUser());
  return { user, device, other };
}

Deno.test("openapi.json is an OpenAPI 3.1 document naming every function", async () => {
  const { document } = await contract();
  assertEquals(document.openapi, "3.1.0");
  assertEquals(document.servers[0].url, FUNCTIONS_URL);
  const functions = new Set(Object.keys(document.paths).map((path) => path.split("/")[1]));
  for await (const entry of Deno.readDir(new URL("../../supabase/functions/", import.meta.url))) {
    if (entry.isDirectory && !entry.name.startsWith("_")) {
      assert(functions.has(entry.name), entry.name);
    }
  }
  const keys = await stackKeys();
  const again = await callFunction("config", {
    path: "/openapi.json",
    headers: { apikey: keys.publishableKey },
  });
  await (await contract()).check("/config/openapi.json", "get", again);
  const none = await callFunction("config", { path: "/openapi.json" });
  await (await contract()).check("/config/openapi.json", "get", none);
  assertEquals(none.status, 401);
});

Deno.test("the contract check fails an answer the document does not describe", async () => {
  const checker = await contract();
  const teapot = new Response("{}", {
    status: 418,
    headers: { "content-type": "application/json" },
  });
  await assertRejectsWith(() => checker.check("/health", "get", teapot), "does not list");
  const wrong = Response.json({ status: "fine" });
  await assertRejectsWith(() => checker.check("/health", "get", wrong), "does not fit");
});

async function assertRejectsWith(run: () => Promise<unknown>, text: string): Promise<void> {
  try {
    await run();
  } catch (error) {
    assert(String(error).includes(text), String(error));
    return;
  }
  throw new Error(`expected a failure with "${text}"`);
}

Deno.test("health, config, batch status and flush answer as documented", async () => {
  const c = await contract();
  const keys = await stackKeys();
  const { user } = await fixtures();
  await c.check("/health", "get", await callFunction("health"));
  await c.check("/config", "get", await callFunction("config", { headers: bearer(user.token) }));
  await c.check("/config", "get", await callFunction("config"));
  await c.check(
    "/telemetry-batch-status",
    "get",
    await callFunction("telemetry-batch-status", { headers: bearer(user.token) }),
  );
  await c.check("/telemetry-batch-status", "get", await callFunction("telemetry-batch-status"));
  await c.check(
    "/telemetry-batch-flush",
    "post",
    await callFunction("telemetry-batch-flush", {
      method: "POST",
      headers: { apikey: keys.secretKey },
    }),
  );
  await c.check(
    "/telemetry-batch-flush",
    "post",
    await callFunction("telemetry-batch-flush", { method: "POST", headers: bearer(user.token) }),
  );
});

Deno.test("telemetry-parse answers as documented for text, NDJSON, JSON, streams and errors", async () => {
  const c = await contract();
  const { device } = await fixtures();
  const ts = (s: number) => `2026-11-26T10:00:${String(s).padStart(2, "0")}Z`;
  const post = (body: string, type: string, query: Record<string, string> = {}) =>
    sendTelemetry(device, body, { "content-type": type }, query);
  const path = "/telemetry-parse";
  await c.check(path, "post", await post("roll:15.2,pitch:8.1,alt:150", "text/plain"));
  await c.check(path, "post", await post(`roll:1,ts:${ts(1)}\nroll:999`, "text/plain"));
  await c.check(
    path,
    "post",
    await post(`{"roll":1,"ts":"${ts(2)}"}\n{"roll":2,"ts":"${ts(3)}"}\n`, "application/x-ndjson"),
  );
  await c.check(
    path,
    "post",
    await post(
      JSON.stringify([{ roll: 3, ts: ts(4) }, { pitch: 4, ts: ts(5), wind_gust: 2 }]),
      "application/json",
    ),
  );
  await c.check(
    path,
    "post",
    await post(JSON.stringify({ data: `roll:5,ts:${ts(6)}` }), "application/json"),
  );
  await c.check(path, "post", await post(`roll:6,ts:${ts(7)}\n`, "text/plain", { stream: "true" }));
  await c.check(path, "post", await post("roll:1", "text/plain", { store: "false" }));
  await c.check(path, "post", await post("roll:999", "text/plain"));
  await c.check(path, "post", await post("roll:1", "text/plain", { stream: "yes" }));
  await c.check(path, "post", await post("roll:1", "image/png"));
  await c.check(path, "post", await post("roll:1\n".repeat(10_001), "text/plain"));
  await c.check(path, "post", await sendTelemetry({ key: "dtk_nope" }, "roll:1"));
  await c.check(
    path,
    "get",
    await callFunction("telemetry-parse", { headers: bearer(device.key) }),
  );
});

Deno.test("telemetry-query answers as documented, pages, streams and refusals", async () => {
  const c = await contract();
  const keys = await stackKeys();
  const { user, device, other } = await fixtures();
  await sendTelemetry(device, "roll:1,alt:10,flight_id:f1,ts:2026-11-26T10:00:00Z\nroll:2");
  const query = (headers: Record<string, string>, params: Record<string, string>) =>
    callFunction("telemetry-query", { headers, query: params });
  const path = "/telemetry-query";
  const own = { "device_id": device.id };
  await c.check(path, "get", await query(bearer(user.token), own));
  await c.check(
    path,
    "get",
    await query(bearer(user.token), { ...own, fields: "roll_degrees", limit: "1" }),
  );
  await c.check(path, "get", await query(bearer(user.token), { ...own, format: "csv" }));
  await c.check(path, "get", await query(bearer(user.token), { ...own, format: "ndjson" }));
  await c.check(path, "get", await query({ apikey: keys.secretKey }, { limit: "2" }));
  await c.check(path, "get", await query(bearer(user.token), { limit: "0" }));
  await c.check(path, "get", await query({}, own));
  await c.check(path, "get", await query({ apikey: keys.publishableKey }, own));
  await c.check(path, "get", await query(bearer(user.token), { device_id: other.id }));
});

Deno.test("devices answers as documented: list, create, rotate, revoke and refusals", async () => {
  const c = await contract();
  const { user, device } = await fixtures();
  const call = (path: string, init: RequestInit = {}) =>
    callFunction("devices", { path, ...init, headers: { ...bearer(user.token), ...init.headers } });
  const json = { "content-type": "application/json" };
  await c.check("/devices", "get", await call(""));
  await c.check(
    "/devices",
    "post",
    await call("", { method: "POST", headers: json, body: JSON.stringify({ name: "contract" }) }),
  );
  await c.check(
    "/devices",
    "post",
    await call("", { method: "POST", headers: json, body: JSON.stringify({ name: "" }) }),
  );
  await c.check("/devices", "post", await call("", { method: "POST", body: "name=x" }));
  await c.check(
    "/devices/{id}/rotate",
    "post",
    await call(`/${device.id}/rotate`, { method: "POST" }),
  );
  await c.check(
    "/devices/{id}/revoke",
    "post",
    await call(`/${device.id}/revoke`, { method: "POST" }),
  );
  await c.check(
    "/devices/{id}/revoke",
    "post",
    await call(`/${crypto.randomUUID()}/revoke`, { method: "POST" }),
  );
  await c.check(
    "/devices/{id}/rotate",
    "post",
    await call("/not-a-uuid/rotate", { method: "POST" }),
  );
  await c.check("/devices", "get", await callFunction("devices"));
});

Deno.test("telemetry-live and telemetry-analytics answer as documented", async () => {
  const c = await contract();
  const keys = await stackKeys();
  const { user, device, other } = await fixtures();
  await sendTelemetry(device, "roll:1,alt:10,armed:1,flight_id:f1,ts:2026-11-26T10:00:00Z");
  const get = (
    fn: string,
    path: string,
    params: Record<string, string>,
    headers = bearer(user.token),
  ) => callFunction(fn, { path, query: params, headers });
  const live = { "device_id": device.id, duration: "1" };
  await c.check("/telemetry-live", "get", await get("telemetry-live", "", live));
  await c.check(
    "/telemetry-live",
    "get",
    await get("telemetry-live", "", { ...live, duration: "0" }),
  );
  await c.check("/telemetry-live", "get", await get("telemetry-live", "", { device_id: other.id }));
  const window = {
    "device_id": device.id,
    bucket: "day",
    from: "2026-11-01T00:00:00Z",
    to: "2026-12-01T00:00:00Z",
  };
  await c.check("/telemetry-analytics", "get", await get("telemetry-analytics", "", window));
  await c.check(
    "/telemetry-analytics",
    "get",
    await get("telemetry-analytics", "", { ...window, bucket: "week" }),
  );
  await c.check(
    "/telemetry-analytics",
    "get",
    await get("telemetry-analytics", "", { device_id: other.id }),
  );
  await c.check(
    "/telemetry-analytics/flights",
    "get",
    await get("telemetry-analytics", "/flights", { device_id: device.id }),
  );
  await c.check(
    "/telemetry-analytics/monitor",
    "get",
    await get("telemetry-analytics", "/monitor", {}),
  );
  await c.check(
    "/telemetry-analytics/internals",
    "get",
    await get("telemetry-analytics", "/internals", {}, { apikey: keys.secretKey }),
  );
  await c.check(
    "/telemetry-analytics/internals",
    "get",
    await get("telemetry-analytics", "/internals", {}),
  );
});
