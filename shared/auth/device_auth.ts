/**
 * Device authentication. Only the key's SHA-256 is looked up; a positive answer is cached for a
 * few seconds in the isolate and for DEVICE_AUTH_CACHE_SECONDS (60 s by default) in Redis, and
 * revoking or rotating a key through the `devices` function drops the Redis entry at once.
 * Storing never trusts the caches: ingest_frames checks the key hash again in the transaction
 * that stores the frames, so a revoked or rotated key stores nothing from the moment it changes.
 */
import { createHash } from "node:crypto";
import { type Cache, cacheKey } from "../platform/cache.ts";
import { callRpc, type Db } from "../platform/db.ts";
import { HttpError } from "../platform/http.ts";

export interface Device {
  id: string;
  ownerId: string;
  name: string;
  /** SHA-256 of the key the device authenticated with; the ingest checks it is still current. */
  keyHash: string;
}

/** The device key from `Authorization: Bearer …` or `x-device-key`, or null. */
export function deviceKeyFrom(request: Request): string | null {
  const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  const header = request.headers.get("x-device-key")?.trim();
  return bearer ?? (header ? header : null);
}

/**
 * Lower-case hex SHA-256 of a key, as the devices table stores it. node:crypto's hash runs
 * synchronously: WebCrypto's digest costs a promise and a hop to another thread, measured at
 * about 70 µs of the function's CPU per device request (deno --cpu-prof).
 */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The cache key under which a key hash's device is kept. */
export function deviceCacheKey(keyHash: string): string {
  return cacheKey("device", keyHash);
}

interface DeviceRow {
  id: string;
  "owner_id": string;
  name: string;
}

/**
 * Devices recently authenticated by this isolate, by key hash, so a busy device costs no Redis
 * call per request. Kept for seconds only; a revoked key is refused anyway by the ingest itself,
 * which checks the device in the same transaction that stores its frames.
 */
export interface LocalDeviceCache {
  get(keyHash: string): Device | null;
  set(keyHash: string, device: Device): void;
  delete(keyHash: string): void;
}

/** A bounded in-memory map with a TTL; the oldest entry goes first when it is full. */
export function createLocalDeviceCache(
  ttlMs: number,
  maxEntries = 10_000,
  nowMs: () => number = Date.now,
): LocalDeviceCache {
  const entries = new Map<string, { device: Device; expiresAt: number }>();
  return {
    get(keyHash) {
      const entry = entries.get(keyHash);
      if (!entry) return null;
      if (entry.expiresAt > nowMs()) return entry.device;
      entries.delete(keyHash);
      return null;
    },
    set(keyHash, device) {
      entries.delete(keyHash);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(keyHash, { device, expiresAt: nowMs() + ttlMs });
    },
    delete(keyHash) {
      entries.delete(keyHash);
    },
  };
}

/**
 * Finds the device a request's key belongs to.
 * @throws {HttpError} 401 when the key is missing, unknown or revoked
 */
export async function authenticateDevice(
  request: Request,
  deps: { db: Db; cache: Cache; cacheSeconds: number; local?: LocalDeviceCache },
): Promise<Device> {
  const key = deviceKeyFrom(request);
  if (!key) {
    throw new HttpError(
      401,
      "missing_device_key",
      "Send the device key as Authorization: Bearer <key> or x-device-key",
    );
  }
  const keyHash = sha256Hex(key);
  const local = deps.local?.get(keyHash);
  if (local) return local;
  const cached = await deps.cache.get(deviceCacheKey(keyHash));
  if (cached) {
    const device = JSON.parse(cached) as Device;
    deps.local?.set(keyHash, device);
    return device;
  }
  const rows = await callRpc<DeviceRow[]>(deps.db, "authenticate_device", { p_key_hash: keyHash });
  const row = rows[0];
  if (!row) throw new HttpError(401, "invalid_device_key", "Device key is unknown or revoked");
  const device: Device = { id: row.id, ownerId: row.owner_id, name: row.name, keyHash };
  await deps.cache.set(deviceCacheKey(keyHash), JSON.stringify(device), deps.cacheSeconds);
  deps.local?.set(keyHash, device);
  return device;
}
