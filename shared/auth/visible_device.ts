/**
 * Whether the caller may see a device, through the caller's own client so RLS decides: another
 * tenant's device and a device that does not exist get the same 404, so an answer never tells a
 * tenant which ids exist.
 */
import { type Db, DbError, toDbError, unavailableOr } from "../platform/db.ts";
import { HttpError } from "../platform/http.ts";

/**
 * Throws unless the device is visible to the client's caller.
 * @throws {HttpError} 404 device_not_found, or 503 when the database cannot be reached
 */
export async function requireVisibleDevice(db: Db, deviceId: string): Promise<void> {
  let found: boolean;
  try {
    const result = await db.from("devices").select("id").eq("id", deviceId).maybeSingle();
    if (result.error) throw toDbError(result.error, result.status);
    found = result.data !== null;
  } catch (error) {
    const dbError = error instanceof DbError ? error : toDbError(error);
    throw unavailableOr(dbError);
  }
  if (!found) throw new HttpError(404, "device_not_found", `No device "${deviceId}"`);
}
