/** Headers between node:http messages and fetch-style Headers, for the local gateway. */
import type { IncomingMessage } from "node:http";

/** Hop-by-hop headers describe one connection; node:http sets its own on each side. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade"]);

/** A node:http message's headers, repeated ones kept as sent. */
export function headersOf(message: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/** Headers for node:http to send, hop-by-hop ones left out and Set-Cookie kept apart. */
export function endToEndHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name) || name === "set-cookie") continue;
    out[name] = value;
  }
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  return out;
}
