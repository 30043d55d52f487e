/**
 * Device authentication. Only the key's SHA-256 is looked up; a positive answer is cached for a
 * few seconds in the isolate and for DEVICE_AUTH_CACHE_SECONDS (60 s by default) in Redis, and
 * revoking or rotating a key through the `devices` function drops the Redis entry at once.
 * Storing never trusts the caches: ingest_frames checks the key hash again in the transaction
 * that stores the frames, so a revoked or rotated key stores nothing from the moment it changes.
 *
 * What an unknown key costs is bounded (issue 21 §4): a key that is not of the form the database
 * issues (`dtk_` and 48 hex digits) is refused without a lookup; a key the database did not know
 * is remembered as unknown (isolate and Redis, same TTLs), and each client address may make
 * UNKNOWN_KEY_LOOKUPS_PER_MINUTE lookups that find nothing, then gets 429 until the minute ends.
 * Caching "unknown" is safe: keys are random and only ever issued once, so a key that was
 * unknown never becomes valid (a new or rotated key is a new key).
 */
import { createHash } from "node:crypto";
import { type Cache, cacheKey } from "../platform/cache.ts";
import { callRpc, type Db } from "../platform/db.ts";
import { HttpError } from "../platform/http.ts";
import { limitsField, limitsHashKey, minuteOf, secondsToNextMinute } from "./rate_limit.ts";

/** The only form of key create_device and rotate_device_key issue. */
const DEVICE_KEY_FORMAT = /^dtk_[0-9a-f]{48}$/;

/** What the caches hold for a key hash the database has no device for. */
const UNKNOWN = "unknown";

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
  get(keyHash: string): Device | typeof UNKNOWN | null;
  set(keyHash: string, device: Device | typeof UNKNOWN): void;
  delete(keyHash: string): void;
}

/** A bounded in-memory map with a TTL; the oldest entry goes first when it is full. */
export function createLocalDeviceCache(
  ttlMs: number,
  maxEntries = 10_000,
  nowMs: () => number = Date.now,
): LocalDeviceCache {
  const entries = new Map<string, { device: Device | typeof UNKNOWN; expiresAt: number }>();
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
 * The client's address as the platform's gateway gives it: the first `x-forwarded-for` entry
 * (Supabase's edge and the local gateway set it from the connection), else "unknown".
 */
export function clientAddress(request: Request): string {
  const first = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return first ? first.slice(0, 64) : "unknown";
}

/**
 * Counts lookups that found no device, per client address and minute, in Redis (read back on
 * each lookup, so every isolate sees them) and in the isolate (used only while Redis is down).
 */
export interface UnknownKeyLimit {
  perMinute: number;
  local: Map<string, { minute: number; count: number }>;
}

/** A fresh per-isolate state for the unknown-key limit. */
export function createUnknownKeyLimit(perMinute: number): UnknownKeyLimit {
  return { perMinute, local: new Map() };
}

function invalidKey(): HttpError {
  return new HttpError(401, "invalid_device_key", "Device key is unknown or revoked");
}

async function checkUnknownKeyBudget(
  cache: Cache,
  limit: UnknownKeyLimit,
  address: string,
  now: Date,
): Promise<void> {
  const minute = minuteOf(now);
  const field = limitsField("unknown_keys", address);
  const local = limit.local.get(address);
  const count = await cache.readCounter(limitsHashKey(minute), field) ??
    (local?.minute === minute ? local.count : 0);
  if (count < limit.perMinute) return;
  const retryAfter = secondsToNextMinute(now);
  throw new HttpError(
    429,
    "unknown_key_rate_limited",
    `More than ${limit.perMinute} unknown device keys came from this address this minute; ` +
      `retry in ${retryAfter} s`,
    { limit: limit.perMinute, window_s: 60 },
    { "retry-after": String(retryAfter) },
  );
}

function countUnknownKey(cache: Cache, limit: UnknownKeyLimit, address: string, now: Date) {
  const minute = minuteOf(now);
  const local = limit.local.get(address);
  if (local?.minute === minute) local.count++;
  else limit.local.set(address, { minute, count: 1 });
  if (limit.local.size > 10_000) {
    for (const [name, entry] of limit.local) if (entry.minute < minute) limit.local.delete(name);
  }
  return cache.addToCounters(
    [{ hash: limitsHashKey(minute), field: limitsField("unknown_keys", address), by: 1 }],
    [],
    [limitsHashKey(minute - 2)],
  );
}

/**
 * Finds the device a request's key belongs to.
 * @throws {HttpError} 401 when the key is missing, unknown or revoked; 429 when the client's
 *   address has made too many lookups of unknown keys this minute
 */
export async function authenticateDevice(
  request: Request,
  deps: {
    db: Db;
    cache: Cache;
    cacheSeconds: number;
    local?: LocalDeviceCache;
    unknownKeys?: UnknownKeyLimit;
    now?: () => Date;
  },
): Promise<Device> {
  const key = deviceKeyFrom(request);
  if (!key) {
    throw new HttpError(
      401,
      "missing_device_key",
      "Send the device key as Authorization: Bearer <key> or x-device-key",
    );
  }
  if (!DEVICE_KEY_FORMAT.test(key)) throw invalidKey();
  const keyHash = sha256Hex(key);
  const local = deps.local?.get(keyHash);
  if (local === UNKNOWN) throw invalidKey();
  if (local) return local;
  const cached = await deps.cache.get(deviceCacheKey(keyHash));
  if (cached === UNKNOWN) {
    deps.local?.set(keyHash, UNKNOWN);
    throw invalidKey();
  }
  if (cached) {
    const device = JSON.parse(cached) as Device;
    deps.local?.set(keyHash, device);
    return device;
  }
  const now = deps.now?.() ?? new Date();
  const address = clientAddress(request);
  if (deps.unknownKeys) await checkUnknownKeyBudget(deps.cache, deps.unknownKeys, address, now);
  const rows = await callRpc<DeviceRow[]>(deps.db, "authenticate_device", { p_key_hash: keyHash });
  const row = rows[0];
  if (!row) {
    deps.local?.set(keyHash, UNKNOWN);
    await Promise.all([
      deps.cache.set(deviceCacheKey(keyHash), UNKNOWN, deps.cacheSeconds),
      deps.unknownKeys && countUnknownKey(deps.cache, deps.unknownKeys, address, now),
    ]);
    throw invalidKey();
  }
  const device: Device = { id: row.id, ownerId: row.owner_id, name: row.name, keyHash };
  await deps.cache.set(deviceCacheKey(keyHash), JSON.stringify(device), deps.cacheSeconds);
  deps.local?.set(keyHash, device);
  return device;
}
