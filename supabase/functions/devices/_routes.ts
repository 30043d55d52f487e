/**
 * The routes of the `devices` function and what the database's refusals mean to its clients.
 */
import { databaseUnavailable, type DbError } from "../../../shared/platform/db.ts";
import { HttpError } from "../../../shared/platform/http.ts";

export type DeviceRoute =
  | { kind: "collection" }
  | { kind: "device"; id: string; action: "revoke" | "rotate" };

const DEVICE_ACTION = /^\/([^/]+)\/(revoke|rotate)\/?$/;

/**
 * The route a path after the function's name stands for.
 * @throws {HttpError} 404 for any other path
 */
export function matchDeviceRoute(path: string): DeviceRoute {
  if (path === "/" || path === "") return { kind: "collection" };
  const match = DEVICE_ACTION.exec(path);
  if (match?.[1] && (match[2] === "revoke" || match[2] === "rotate")) {
    let id = match[1];
    try {
      id = decodeURIComponent(id);
    } catch {
      // kept as sent: the id check answers 400 for it
    }
    return { kind: "device", id, action: match[2] };
  }
  throw new HttpError(
    404,
    "not_found",
    `No route ${path}; use /devices, /devices/<id>/revoke or /devices/<id>/rotate`,
  );
}

/**
 * Maps a refusal of the device RPCs to the client's error. Transient failures become 503;
 * anything unexpected stays as it is (a 500, logged with its stack).
 */
export function toDeviceHttpError(error: DbError, route: DeviceRoute): Error {
  const id = route.kind === "device" ? route.id : undefined;
  switch (error.code) {
    // PT404 since 20261204030150 (PostgREST answers it with a 404 when called directly).
    case "PT404":
    case "P0002":
      return new HttpError(
        404,
        "device_not_found",
        route.kind === "device" && route.action === "rotate"
          ? `Device "${id}" was not found or is revoked`
          : `Device "${id}" was not found`,
      );
    case "42501":
      return new HttpError(403, "forbidden", "A user may only create devices for themselves", [
        { field: "owner_id", message: "must be left out or be your own user id" },
      ]);
    case "23503":
    case "22004":
      return new HttpError(400, "invalid_body", 'Invalid device: "owner_id" is not a known user', [
        { field: "owner_id", message: "must be the id of an existing user" },
      ]);
    case "23514":
      return new HttpError(400, "invalid_body", 'Invalid device: "name" is not accepted', [
        { field: "name", message: "must be 1 to 100 characters" },
      ]);
    // Raised by create_device over telemetry.settings.max_devices_per_owner. 429, as every
    // quota; a long Retry-After since only revoking a device (or a higher cap) makes room.
    case "device_limit_reached":
      return new HttpError(429, "device_limit_reached", error.message, undefined, {
        "retry-after": "3600",
      });
  }
  return error.transient ? databaseUnavailable() : error;
}
