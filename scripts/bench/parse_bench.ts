// deno-lint-ignore-file no-console -- a command-line tool: the console is its output
/**
 * Micro-benchmark of parse + validate on one core, without the stack: 10,000 frames through
 * `createStreamParser` against `JSON.parse` of the same lines, for 25-field NDJSON, 25-field
 * key:value and 77-field NDJSON bodies. Variants run alternately in one process (the machine is
 * shared, so only figures of the same run compare); two warm-up rounds, then medians.
 *
 * Usage: deno run --allow-read scripts/bench/parse_bench.ts [--rounds 5] [--baseline path]
 *   --baseline: another copy of parser.ts (e.g. `git show` of an older commit into /tmp) to run
 *   alternately with this one; run it with `--config deno.json` when it lies outside the project.
 */
import { parseArgs } from "node:util";
import {
  createStreamParser,
  type ParseOptions,
  type ParseResult,
} from "../../shared/ingest/parser.ts";
import { type Frame, fullFrame, realisticFrame } from "./frames.ts";
import { median, spread } from "./stats.ts";

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    frames: { type: "string", default: "10000" },
    baseline: { type: "string", default: "" },
    only: { type: "string", default: "" },
  },
});
const ROUNDS = Math.max(1, Number(options.rounds));
const FRAMES = Math.max(1, Number(options.frames));
const WARM_UP_ROUNDS = 2;

interface Parser {
  push(chunk: string): ParseResult;
  end(): ParseResult;
}
type ParserFactory = (options: ParseOptions) => Parser;

const variants: Array<{ name: string; create: ParserFactory | null }> = [
  { name: "JSON.parse", create: null },
  { name: "parser", create: createStreamParser },
];
if (options.baseline !== "") {
  const baseline: { createStreamParser: ParserFactory } = await import(
    new URL(options.baseline, `file://${Deno.cwd()}/`).href
  );
  variants.push({ name: "baseline", create: baseline.createStreamParser });
}

function kvLine(frame: Frame): string {
  return Object.entries(frame).map(([key, value]) => `${key}:${value}`).join(",");
}

function scenario(name: string, build: (i: number, at: string) => Frame, kv: boolean) {
  const base = Date.now() - 3600_000;
  const frames = Array.from(
    { length: FRAMES },
    (_, i) => build(i, new Date(base + i).toISOString()),
  );
  const jsonLines = frames.map((frame) => JSON.stringify(frame));
  const lines = kv ? frames.map(kvLine) : jsonLines;
  const fields = Object.keys(frames[0] ?? {}).length;
  return { name, lines, jsonLines, text: lines.join("\n"), fields };
}

const scenarios = [
  ["realistic NDJSON", realisticFrame, false] as const,
  ["realistic key:value", realisticFrame, true] as const,
  ["full NDJSON", fullFrame, false] as const,
].filter(([name]) => options.only === "" || name.includes(options.only))
  .map(([name, build, kv]) => scenario(name, build, kv));

/**
 * Seconds to parse the body once; when `create` is null, JSON.parse of each frame as an NDJSON
 * line (also for key:value bodies: the same frames, the cost of merely reading them).
 */
function runOnce(s: (typeof scenarios)[number], create: ParserFactory | null): number {
  const t0 = performance.now();
  if (create === null) {
    for (const line of s.jsonLines) JSON.parse(line);
  } else {
    const parser = create({ receivedAt: new Date() });
    const done = parser.push(s.text).frames.length + parser.end().frames.length;
    if (done !== s.lines.length) throw new Error(`the parser refused ${s.name} frames`);
  }
  return (performance.now() - t0) / 1000;
}

for (const s of scenarios) {
  const figures = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 1; round <= ROUNDS + WARM_UP_ROUNDS; round++) {
    // Alternate the order each round so neither variant always runs on a warmer cache.
    const order = round % 2 === 0 ? [...variants].reverse() : variants;
    for (const v of order) {
      const seconds = runOnce(s, v.create);
      if (round > WARM_UP_ROUNDS) figures.get(v.name)?.push((s.lines.length * s.fields) / seconds);
    }
  }
  console.log(`${s.name} (${s.fields} fields x ${s.lines.length} frames), fields/s:`);
  for (const [name, values] of figures) {
    const m = median(values);
    const perFrame = (1e6 * s.fields) / m;
    console.log(
      `  ${name.padEnd(10)} median ${(m / 1e6).toFixed(2).padStart(6)}M  ` +
        `(${perFrame.toFixed(1)} us/frame, spread ${(spread(values) * 100).toFixed(0)}%)`,
    );
  }
}
