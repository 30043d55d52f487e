/**
 * Writing a config file that a running process may read at any moment. PostgREST reads its
 * config and its JWKS file (jwt-secret = "@…") again on every reconnection to the database and on
 * every `NOTIFY pgrst, 'reload config'`; a file caught half written (truncated, then filled) left
 * it refusing every JWT with "JWSError JWSInvalidSignature" until its next reload. That is how a
 * CI run failed: `deno task stack status` wrote the files while PostgREST, just restarted,
 * reloaded them.
 */

/**
 * Gives `path` the content `text`: not touched when it has it already, else replaced in one
 * rename, so that a reader sees the old file or the new one and never a part of either.
 * Returns whether the file was written.
 */
export async function writeConfigFile(path: string, text: string): Promise<boolean> {
  const current = await Deno.readTextFile(path).catch(() => null);
  if (current === text) return false;
  const temporary = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(temporary, text, { mode: 0o600 });
  await Deno.rename(temporary, path);
  return true;
}
