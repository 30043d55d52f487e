/**
 * An operator's reads that may lag (pages, exports, rollups, flights): through the read replica
 * while it is fit (shared/platform/replica.ts), else through the primary, always as the caller
 * so RLS decides what they see on either. Reads that must see their own writes (devices,
 * idempotency, the monitor's live figures) do not come here.
 */
import type { Caller } from "./operator_auth.ts";
import { requireVisibleDevice } from "./visible_device.ts";
import type { Db } from "../platform/db.ts";
import type { Deps } from "../platform/deps.ts";
import { HttpError } from "../platform/http.ts";
import { readPreferringReplica, type ReadTarget } from "../platform/replica.ts";

export interface CallerReads {
  /** The caller's client where `target` says. */
  on(target: ReadTarget): Db;
  /**
   * Runs a read on the replica when it is fit, else on the primary; a read the replica fails
   * runs again on the primary.
   */
  run<T>(read: (target: ReadTarget) => Promise<T>): Promise<{ value: T; source: ReadTarget }>;
  /**
   * Throws 404 unless the caller may see the device. A device the replica does not know yet
   * (created a moment ago) is looked up on the primary before the 404.
   * @throws {HttpError} 404 device_not_found, or 503 when the database cannot be reached
   */
  requireVisibleDevice(target: ReadTarget, deviceId: string): Promise<void>;
}

/** The caller's reads: service role's clients, or clients acting with the user's token. */
export function callerReads(deps: Deps, caller: Caller): CallerReads {
  const asService = caller.role === "service_role";
  const primary = asService ? deps.db : deps.dbAs(caller.token);
  const replica = deps.replica;
  const onReplica = replica ? (asService ? replica.db : replica.dbAs(caller.token)) : null;
  const on = (target: ReadTarget) => target === "replica" && onReplica ? onReplica : primary;
  return {
    on,
    run: (read) => readPreferringReplica(replica?.router ?? null, read),
    async requireVisibleDevice(target, deviceId) {
      try {
        await requireVisibleDevice(on(target), deviceId);
      } catch (error) {
        const unknown = error instanceof HttpError && error.status === 404;
        if (!unknown || target !== "replica") throw error;
        await requireVisibleDevice(primary, deviceId);
      }
    },
  };
}
