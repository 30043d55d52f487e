import { assert, assertEquals } from "@std/assert";
import { Ajv2020 } from "ajv/dist/2020.js";
import { createDeviceSchema } from "../auth/device_schema.ts";
import { telemetryQuerySchema } from "../query/query_schema.ts";
import { openApiDocument } from "./openapi.ts";

// deno-lint-ignore no-explicit-any -- the document is JSON walked by path
const document: any = openApiDocument("https://example.supabase.co/functions/v1");

function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => refs(item, found));
  else if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string") found.push(inner);
      else refs(inner, found);
    }
  }
  return found;
}

Deno.test("openApiDocument has a path for every function of supabase/functions", async () => {
  const functions = new Set(Object.keys(document.paths).map((path) => path.split("/")[1]));
  const folders: string[] = [];
  for await (const entry of Deno.readDir(new URL("../../supabase/functions/", import.meta.url))) {
    if (entry.isDirectory && !entry.name.startsWith("_")) folders.push(entry.name);
  }
  assertEquals(folders.filter((name) => !functions.has(name)), []);
});

Deno.test("openApiDocument takes telemetry-query's parameters and the devices body from their zod schemas", () => {
  const parameters = document.paths["/telemetry-query"].get.parameters;
  assertEquals(
    parameters.map((parameter: { name: string }) => parameter.name),
    Object.keys(telemetryQuerySchema.shape),
  );
  const format = parameters.find((parameter: { name: string }) => parameter.name === "format");
  assertEquals(format.schema.enum, ["json", "csv", "ndjson"]);
  const body = document.paths["/devices"].post.requestBody.content["application/json"].schema;
  assertEquals(Object.keys(body.properties), Object.keys(createDeviceSchema.shape));
  assertEquals(body.properties.name.maxLength, 100);
});

Deno.test("openApiDocument refers only to components it has, each a valid JSON Schema", () => {
  const components = document.components.schemas;
  for (const ref of refs(document.paths)) {
    assert(ref.startsWith("#/components/schemas/") && ref.slice(21) in components, ref);
  }
  const ajv = new Ajv2020({ strict: false });
  for (const [name, schema] of Object.entries(components)) {
    assert(
      ajv.validateSchema({ ...(schema as object), components: undefined }),
      `${name}: ${ajv.errorsText()}`,
    );
  }
  assertEquals(components.Error.required, ["success", "error", "timestamp", "request_id"]);
});
