// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Imports a PX4 ULog flight log through the real API, as the device whose key is given.
 *
 * Usage: deno task import-ulog FILE --device-key KEY [--url FUNCTIONS_URL] [--start-time ISO]
 *        [--rate HZ | --raw]
 *   --device-key  the device's key (or env DEVICE_KEY), e.g. from `deno task device:create`
 *   --url         the functions URL (default: the local stack's, or env FUNCTIONS_URL)
 *   --start-time  the log's boot time, used only when the log has no GPS UTC time
 *                 (default: the file's modification time minus the log's duration)
 *   --rate        frames per second, each holding the latest value of every field (default 10)
 *   --raw         one frame per log timestamp instead, holding only the messages stamped then
 * Exit status: 0 imported; 1 the log is truncated or corrupt (what came before the named byte
 * offset was imported) or some frames were not stored; 2 bad usage.
 */
import { parseTimestamp } from "../shared/ingest/timestamp.ts";
import { GATEWAY_URL } from "./stack/layout.ts";
import {
  DEFAULT_RATE_HZ,
  type ImportSummary,
  importUlog,
  MAX_RATE_HZ,
  UlogImportError,
} from "./ulog/importer.ts";

const USAGE = "Usage: deno task import-ulog FILE --device-key KEY [--url FUNCTIONS_URL] " +
  "[--start-time ISO] [--rate HZ | --raw]";

function fail(message: string, code = 2): never {
  console.error(message);
  Deno.exit(code);
}

function parseArgs(args: string[]) {
  const flags = new Map<string, string>();
  const files: string[] = [];
  let raw = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (!arg.startsWith("--")) files.push(arg);
    else if (arg === "--raw") raw = true;
    else if (["--device-key", "--url", "--start-time", "--rate"].includes(arg)) {
      const value = args[++i];
      if (value === undefined) fail(`${arg} needs a value. ${USAGE}`);
      flags.set(arg, value);
    } else fail(`Unknown option "${arg}". ${USAGE}`);
  }
  if (files.length !== 1) fail(USAGE);
  const deviceKey = flags.get("--device-key") ?? Deno.env.get("DEVICE_KEY");
  if (!deviceKey) fail(`--device-key is required. ${USAGE}`);
  const rate = flags.get("--rate");
  if (rate !== undefined && raw) fail(`--rate and --raw exclude each other. ${USAGE}`);
  const rateHz = rate === undefined ? DEFAULT_RATE_HZ : Number(rate);
  if (!/^\d+(\.\d+)?$/.test(rate ?? "10") || !(rateHz > 0 && rateHz <= MAX_RATE_HZ)) {
    fail(
      `--rate must be a number of frames per second above 0, at most ${MAX_RATE_HZ}, got "${rate}"`,
    );
  }
  return {
    file: files[0] ?? "",
    deviceKey,
    functionsUrl: flags.get("--url") ?? Deno.env.get("FUNCTIONS_URL") ??
      `${GATEWAY_URL}/functions/v1`,
    startTime: flags.get("--start-time"),
    rateHz,
    raw,
  };
}

/** Log time 0 when the log has no GPS time: --start-time, else the file's mtime. */
function startTimeMicros(startTime: string | undefined, mtime: Date | null): bigint {
  if (startTime === undefined) return BigInt((mtime ?? new Date()).getTime()) * 1000n;
  const parsed = parseTimestamp("--start-time", startTime, new Date());
  if (!parsed.ok) fail(`Invalid --start-time: ${parsed.reason}`);
  return BigInt(Date.parse(parsed.iso)) * 1000n + BigInt(parsed.iso.slice(23, 26));
}

function progress(done: number, total: number, summary: ImportSummary): void {
  if (!Deno.stderr.isTerminal()) return;
  const share = total === 0 ? 1 : done / total;
  const bar = "#".repeat(Math.round(share * 30)).padEnd(30, ".");
  const line = `\r[${bar}] ${(share * 100).toFixed(0).padStart(3)}%  ` +
    `${summary.frames} frames, ${summary.accepted} stored, ${summary.rejected} rejected`;
  Deno.stderr.writeSync(new TextEncoder().encode(line));
}

function printSummary(summary: ImportSummary): void {
  if (Deno.stderr.isTerminal()) console.error("");
  const boot = new Date(Number(summary.bootMicros / 1000n)).toISOString();
  console.log(`Flight id:   ${summary.flightId}`);
  console.log(
    `Time base:   ${summary.timeBase === "gps" ? "GPS UTC" : "--start-time / file time"}, ` +
      `log time 0 = ${boot}`,
  );
  console.log(
    `Frames:      ${
      summary.rateHz === null
        ? "one per log timestamp (--raw)"
        : `${summary.rateHz} Hz, latest values`
    }`,
  );
  console.log(`Altitude:    ${summary.altitudeSource ?? "none (no source in the log)"}`);
  console.log(
    `Sent:        ${summary.frames} sent, ${summary.accepted} stored, ${summary.rejected} ` +
      `rejected, ${summary.failedFrames} not stored`,
  );
  if (summary.replayedBatches > 0) {
    console.log(`Repeated:    ${summary.replayedBatches} batches were already imported`);
  }
  console.log(`Left out:    ${summary.outOfRange} values outside the catalogue's ranges`);
  const topics = Object.entries(summary.messagesByTopic).map(([t, n]) => `${t} ${n}`);
  console.log(`Mapped:      ${topics.join(", ")}`);
  console.log(`Not mapped:  ${summary.unmappedTopics.join(", ") || "(none)"}`);
  if (summary.firstError) console.log(`First error: ${summary.firstError}`);
}

const args = parseArgs(Deno.args);
let bytes: Uint8Array;
let mtime: Date | null = null;
try {
  bytes = await Deno.readFile(args.file);
  mtime = (await Deno.stat(args.file)).mtime;
} catch (error) {
  fail(`Cannot read "${args.file}": ${error instanceof Error ? error.message : error}`, 1);
}
let summary: ImportSummary | null = null;
try {
  summary = await importUlog(bytes, {
    functionsUrl: args.functionsUrl,
    deviceKey: args.deviceKey,
    startTimeMicros: startTimeMicros(args.startTime, mtime),
    rateHz: args.rateHz,
    raw: args.raw,
    onProgress: (done, total, current) => {
      summary = current;
      progress(done, total, current);
    },
    onRetry: (attempt, reason, wait) =>
      console.error(`\nRetry ${attempt} in ${Math.round(wait)} ms: ${reason}`),
  });
} catch (error) {
  if (!(error instanceof UlogImportError)) throw error;
  if (summary !== null) printSummary(summary);
  fail(error.message, 1);
}
printSummary(summary);
Deno.exit(summary.failedFrames > 0 || summary.accepted + summary.rejected < summary.frames ? 1 : 0);
