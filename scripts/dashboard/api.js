/**
 * Calls to the Edge Functions, the only thing the dashboard talks to. The token travels in the
 * `Authorization` header, never in a URL (URLs end up in logs). A failed call throws an ApiError
 * carrying the function's own error code and message, so the page can show them as they are.
 */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the functions could not be reached
   * @param {string} code the error body's code, e.g. "invalid_token"
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {string} functionsUrl e.g. "http://127.0.0.1:54321/functions/v1"
 * @param {string} token a user JWT (or, with care, a service-role key)
 */
export function createApi(functionsUrl, token) {
  /**
   * @param {string} path function name and sub-path, e.g. "telemetry-analytics/flights"
   * @param {Record<string, string | number | undefined>} [params]
   * @param {{ headers?: Record<string, string>, signal?: AbortSignal }} [options]
   * @returns {Promise<Response>} a 2xx response, body unread
   */
  async function call(path, params = {}, options = {}) {
    const url = new URL(`${functionsUrl.replace(/\/$/, "")}/${path}`);
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== "") url.searchParams.set(name, String(value));
    }
    let response;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, ...options.headers },
        signal: options.signal ?? null,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(0, "unreachable", `Cannot reach ${functionsUrl}: ${errorText(error)}`);
    }
    if (response.ok) return response;
    const body = await response.json().catch(() => null);
    // Function errors are {error: {code, message}}; the gateway's own are {code, message}.
    const error = body?.error ?? body ?? {};
    throw new ApiError(
      response.status,
      String(error.code ?? `http_${response.status}`),
      String(error.message ?? response.statusText),
    );
  }

  return {
    call,
    /**
     * @param {string} path
     * @param {Record<string, string | number | undefined>} [params]
     * @returns {Promise<any>} the parsed JSON body
     */
    json: async (path, params) => await (await call(path, params)).json(),
    /**
     * Every line of an NDJSON answer, parsed, as the body streams in.
     * @param {string} path
     * @param {Record<string, string | number | undefined>} params
     * @param {(row: any) => void} onRow
     */
    ndjson: async (path, params, onRow) => {
      const response = await call(path, { ...params, format: "ndjson" });
      if (!response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let rest = "";
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        const lines = (rest + read.value).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) if (line.trim()) onRow(JSON.parse(line));
      }
      if (rest.trim()) onRow(JSON.parse(rest));
    },
  };
}

/**
 * @param {unknown} error
 * @returns {string}
 */
export function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}
