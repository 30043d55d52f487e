import { assertEquals } from "@std/assert";
import { checkParams, liveParamsSchema } from "./param_schemas.ts";

const ID = "11111111-1111-4111-8111-111111111111";

Deno.test("checkParams fills defaults and lower-cases the device id", () => {
  assertEquals(
    checkParams(liveParamsSchema, new URLSearchParams({ device_id: ID.toUpperCase() })),
    {
      ok: true,
      data: { device_id: ID, duration: 120 },
    },
  );
});

Deno.test("checkParams names unknown and repeated parameters first, then each bad value", () => {
  const params = new URLSearchParams("duration=0&token=x&flight_id=&device_id=a&device_id=b");
  assertEquals(checkParams(liveParamsSchema, params), {
    ok: false,
    problems: [
      {
        parameter: "token",
        message: "is not a known parameter; use device_id, flight_id, duration",
      },
      { parameter: "device_id", message: "is given more than once" },
      { parameter: "flight_id", message: 'must be 1 to 200 characters, got ""' },
      { parameter: "duration", message: 'must be an integer from 1 to 120, got "0"' },
    ],
  });
  assertEquals(checkParams(liveParamsSchema, new URLSearchParams()), {
    ok: false,
    problems: [{ parameter: "device_id", message: "is required" }],
  });
});
