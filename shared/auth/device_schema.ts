/**
 * Request bodies and path parts of the `devices` function, checked with zod. The name's bounds
 * repeat the `name_is_1_to_100_chars` constraint of telemetry.devices, so a bad name is a 400
 * naming "name" here rather than a database error.
 *
 * @module
 */
import { z } from "zod";
import { isSafeText } from "../catalogue/frame_schema.ts";

/** Longest device name in characters (the column's check constraint). */
export const MAX_DEVICE_NAME_LENGTH = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A device or user id as Postgres accepts a uuid, lower-cased. */
export const uuidSchema = z.string().regex(UUID, { message: "must be a UUID" })
  .transform((text) => text.toLowerCase());

/**
 * POST /devices: `name`, and for service role (which has no user of its own) the `owner_id`
 * the device belongs to. A user may leave owner_id out; naming someone else is refused.
 */
export const createDeviceSchema = z.strictObject({
  name: z.string({
    error: (issue) => issue.input === undefined ? "is required" : "must be a string",
  }).trim()
    .min(1, { message: "must not be empty" })
    .max(MAX_DEVICE_NAME_LENGTH, {
      message: `must be at most ${MAX_DEVICE_NAME_LENGTH} characters`,
    })
    .refine(isSafeText, { message: "must not hold control characters" }),
  owner_id: uuidSchema.optional(),
});

/** A checked POST /devices body. */
export type CreateDevice = z.output<typeof createDeviceSchema>;

/** One bad body field or path part, for `error.details`. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** zod's issues as one problem per field, unknown keys each named. */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
        field: key,
        message: "is not a known field; send name (and owner_id as service role)",
      }))
      : [{
        field: issue.path.length > 0 ? issue.path.join(".") : "body",
        message: issue.path.length > 0 ? issue.message : "must be a JSON object",
      }]
  );
}
