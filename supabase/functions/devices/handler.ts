/**
 * Device keys for operators (a user JWT or service role):
 * - POST /devices {name}: registers a device; the key is in this answer and nowhere else (201).
 * - GET /devices: the caller's devices (RLS: a user sees their own, service role all).
 * - POST /devices/<id>/revoke: the key stops working for good.
 * - POST /devices/<id>/rotate: a new key; the old one stops working.
 * Revoke and rotate drop the old key's device-auth cache entry at once, so telemetry-parse
 * refuses the key on the next request instead of after DEVICE_AUTH_CACHE_SECONDS.
 * A user's calls run with their own token (RLS and auth.uid() apply); service role's as itself.
 */
import { identifyCaller, requireRole } from "../../../shared/auth/operator_auth.ts";
import { callRpc, type Db, DbError } from "../../../shared/platform/db.ts";
import type { Deps } from "../../../shared/platform/deps.ts";
import { deviceCacheKey } from "../../../shared/auth/device_auth.ts";
import {
  HttpError,
  jsonResponse,
  requireMethod,
  subPath,
  withBoundary,
} from "../../../shared/platform/http.ts";
import { readJsonBody } from "../../../shared/platform/body_reader.ts";
import {
  createDeviceSchema,
  fieldProblems,
  uuidSchema,
} from "../../../shared/auth/device_schema.ts";
import { type DeviceRoute, matchDeviceRoute, toDeviceHttpError } from "./_routes.ts";

/** Bodies are one short name: anything near this size is not a device request. */
const MAX_BODY_BYTES = 4_096;

const LIST_COLUMNS = "id,name,key_prefix,created_at,revoked_at,last_seen_at";

interface NewKeyRow {
  id: string;
  name: string;
  key: string;
  "key_prefix": string;
  "created_at": string;
}

interface RevokedRow {
  id: string;
  "revoked_at": string;
  "previous_key_hash": string;
}

export function createDevicesHandler(deps: Deps): (request: Request) => Promise<Response> {
  return withBoundary("devices", deps.logger, async (request, context) => {
    const route = matchDeviceRoute(subPath(request, "devices"));
    requireMethod(request, ...(route.kind === "collection" ? ["GET", "POST"] : ["POST"]));
    const caller = await identifyCaller(request, deps.config);
    requireRole(caller, "authenticated", "service_role");
    context.log.role = caller.role;
    if (caller.userId) context.log.user_id = caller.userId;
    // Built on first use, after the request was checked.
    const db = () => caller.role === "service_role" ? deps.db : deps.dbAs(caller.token);
    const timestamp = () => deps.now().toISOString();

    try {
      if (route.kind === "collection" && request.method === "GET") {
        const devices = await listDevices(db());
        return jsonResponse({
          success: true,
          devices,
          count: devices.length,
          timestamp: timestamp(),
        });
      }
      if (route.kind === "collection") {
        const device = await createDevice(db, request, caller.role === "service_role");
        context.log.device_id = device.id;
        return jsonResponse({ success: true, device, timestamp: timestamp() }, 201);
      }
      const deviceId = parseDeviceId(route);
      context.log.device_id = deviceId;
      if (route.action === "revoke") {
        const [row] = await callRpc<RevokedRow[]>(db(), "revoke_device", { p_device_id: deviceId });
        if (!row) throw notFound(deviceId);
        await deps.cache.del(deviceCacheKey(row.previous_key_hash));
        return jsonResponse({
          success: true,
          device: { id: row.id, revoked_at: row.revoked_at },
          timestamp: timestamp(),
        });
      }
      const [row] = await callRpc<(NewKeyRow & { "previous_key_hash": string })[]>(
        db(),
        "rotate_device_key",
        { p_device_id: deviceId },
      );
      if (!row) throw notFound(deviceId);
      await deps.cache.del(deviceCacheKey(row.previous_key_hash));
      const { previous_key_hash: _old, ...device } = row;
      return jsonResponse({ success: true, device, timestamp: timestamp() });
    } catch (error) {
      throw error instanceof DbError ? toDeviceHttpError(error, route) : error;
    }
  }, deps.now);
}

async function listDevices(db: Db): Promise<unknown[]> {
  const result = await db.from("devices").select(LIST_COLUMNS)
    .order("created_at", { ascending: false }).order("id");
  if (result.error) {
    throw new DbError(result.error.message, result.error.code, false, result.status);
  }
  return result.data;
}

async function createDevice(
  db: () => Db,
  request: Request,
  asService: boolean,
): Promise<NewKeyRow> {
  const parsed = createDeviceSchema.safeParse(await readJsonBody(request, MAX_BODY_BYTES));
  if (!parsed.success) {
    const details = fieldProblems(parsed.error);
    const first = details[0];
    throw new HttpError(
      400,
      "invalid_body",
      first ? `Invalid device: "${first.field}" ${first.message}` : "Invalid device",
      details,
    );
  }
  const { name, owner_id: ownerId } = parsed.data;
  if (asService && !ownerId) {
    throw new HttpError(
      400,
      "invalid_body",
      'Invalid device: "owner_id" is required for service role',
      [
        { field: "owner_id", message: "is required for service role, which owns no devices" },
      ],
    );
  }
  const [row] = await callRpc<NewKeyRow[]>(db(), "create_device", {
    p_name: name,
    ...(ownerId ? { p_owner_id: ownerId } : {}),
  });
  if (!row) throw new DbError("create_device returned no row", "", false, 200);
  return row;
}

function parseDeviceId(route: Extract<DeviceRoute, { kind: "device" }>): string {
  const parsed = uuidSchema.safeParse(route.id);
  if (parsed.success) return parsed.data;
  throw new HttpError(400, "invalid_id", `Invalid device id "${route.id}": "id" must be a UUID`, [
    { field: "id", message: "must be a UUID" },
  ]);
}

function notFound(deviceId: string): HttpError {
  return new HttpError(404, "device_not_found", `Device "${deviceId}" was not found`);
}
