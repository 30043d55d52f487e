/**
 * The operator dashboard on the local gateway (no CDN, no internet):
 * - `/dashboard/<file>` serves the page from `scripts/dashboard/`;
 * - `/dashboard/vendor/uPlot.*` serves uPlot from the pinned npm tools (`scripts/tools`);
 * - `/dashboard/local-token` mints a one-hour user token for the simulator's owner
 *   (`.stack/simulator.json`), so a local user signs in with one click. It exists only on the
 *   local stack: a hosted dashboard signs in with a pasted token.
 */
import { join } from "node:path";
import { mintUserToken, type StackKeys } from "./keys.ts";
import { BIN_DIR, PROJECT_ROOT, stackPath } from "./layout.ts";

const PAGE_DIR = join(PROJECT_ROOT, "scripts", "dashboard");
const UPLOT_DIR = join(BIN_DIR, "..", "uplot", "dist");
const VENDORED: Record<string, string> = {
  "vendor/uPlot.iife.min.js": join(UPLOT_DIR, "uPlot.iife.min.js"),
  "vendor/uPlot.min.css": join(UPLOT_DIR, "uPlot.min.css"),
};
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
};
// Everything comes from this origin; only map tiles (an optional setting) may come from elsewhere.
const CSP = "default-src 'self'; img-src 'self' data: https: http:; connect-src 'self'";
const TOKEN_TTL_SECONDS = 3600;

function text(status: number, message: string): Response {
  return Response.json({ message }, { status });
}

/** The file a dashboard path names, or null: only plain names, so no path leaves the folder. */
function fileFor(path: string): string | null {
  if (path === "") return join(PAGE_DIR, "index.html");
  if (VENDORED[path]) return VENDORED[path];
  // Browsers ask for favicon.ico by that name; the page's icon is an SVG.
  if (path === "favicon.ico") return join(PAGE_DIR, "favicon.svg");
  return /^[a-z_]+\.(html|js|css|svg)$/.test(path) ? join(PAGE_DIR, path) : null;
}

async function serveFile(file: string): Promise<Response> {
  try {
    const body = await Deno.readFile(file);
    const type = TYPES[file.slice(file.lastIndexOf(".") + 1)] ?? "application/octet-stream";
    return new Response(body, {
      headers: {
        "content-type": type,
        "content-security-policy": CSP,
        "cache-control": "no-cache",
      },
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return text(404, "No such dashboard file");
    throw error;
  }
}

/**
 * A token only for a same-origin request to a loopback host name: another site's page cannot
 * read it (no CORS headers, and Sec-Fetch-Site says cross-site), nor can a DNS-rebound name.
 */
async function localToken(request: Request, url: URL, keys: StackKeys): Promise<Response> {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    return text(403, "The local token is for the dashboard's own origin only");
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    return text(403, "The local token is for loopback addresses only");
  }
  let ownerId: unknown;
  try {
    ownerId = JSON.parse(await Deno.readTextFile(stackPath("simulator.json"))).ownerId;
  } catch {
    ownerId = null;
  }
  if (typeof ownerId !== "string") {
    return text(
      404,
      "No simulated drones yet: start them with `deno task simulate:start`, or paste a token " +
        "from `deno task jwt:mint`",
    );
  }
  const token = await mintUserToken(keys, ownerId, TOKEN_TTL_SECONDS);
  return Response.json(
    { token, user_id: ownerId, expires_in: TOKEN_TTL_SECONDS },
    { headers: { "cache-control": "no-store" } },
  );
}

/** Answers every path under `/dashboard`. */
export function dashboard(request: Request, url: URL, keys: StackKeys): Promise<Response> {
  if (url.pathname === "/dashboard") {
    return Promise.resolve(Response.redirect(new URL("/dashboard/", url), 301));
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return Promise.resolve(text(405, `Method ${request.method} is not allowed on the dashboard`));
  }
  const path = url.pathname.slice("/dashboard/".length);
  if (path === "local-token") return localToken(request, url, keys);
  const file = fileFor(path);
  return file ? serveFile(file) : Promise.resolve(text(404, "No such dashboard file"));
}
