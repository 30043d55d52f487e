/**
 * Small scanners over JSON text for what `JSON.parse` hides: where each element of a top-level
 * array starts and ends (so one malformed element does not lose the others, and `raw_data` is the
 * element's own text), whether a line holds one complete value, and duplicate keys (which
 * `JSON.parse` silently collapses, keeping the last).
 *
 * @module
 */

/** A slice `[start, end)` of a text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Result of splitting a JSON array: element spans, plus a problem that stopped the split. */
export interface ArraySplit {
  readonly elements: readonly Span[];
  /** Why the split stopped early (unterminated array, text after it), if it did. */
  readonly problem?: string;
  /** True when the array has more elements than the split was allowed to find. */
  readonly tooMany?: boolean;
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && WHITESPACE.has(text.charAt(i))) i++;
  return i;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Index just past the string literal that starts at `from` (a quote), or -1 if unterminated. */
function skipString(text: string, from: number): number {
  // indexOf jumps over the string in native code; a quote ends it unless an odd number of
  // backslashes (escapes of each other, then of the quote) stands before it.
  let quote = text.indexOf('"', from + 1);
  while (quote >= 0) {
    let before = quote - 1;
    while (text.charCodeAt(before) === BACKSLASH) before--;
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
  return -1;
}

/**
 * Scans one value starting at `from` up to a `,` or `]` at depth 0 (or the end of the text).
 * Returns the index of that delimiter (or text.length), or -1 for an unterminated string.
 */
function scanValue(text: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"') {
      i = skipString(text, i);
      if (i < 0) return -1;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0 && c === "]") return i;
      if (depth > 0) depth--;
    } else if (c === "," && depth === 0) return i;
    i++;
  }
  return i;
}

function trimmedSpan(text: string, start: number, end: number): Span {
  let e = end;
  while (e > start && WHITESPACE.has(text.charAt(e - 1))) e--;
  return { start, end: e };
}

/**
 * Splits a top-level JSON array into element spans without parsing the elements, tolerating
 * malformed elements. A trailing comma before `]` is tolerated.
 *
 * @param text Text whose first non-whitespace character is `[`.
 * @param maxElements Stop at the element after this many, with `tooMany` (so a hostile array of
 *   millions of tiny elements costs a bounded scan, not millions of spans).
 */
export function splitJsonArray(text: string, maxElements = Infinity): ArraySplit {
  const elements: Span[] = [];
  let i = skipWhitespace(text, 0) + 1;
  for (;;) {
    i = skipWhitespace(text, i);
    if (elements.length >= maxElements && i < text.length && text.charAt(i) !== "]") {
      return { elements, tooMany: true };
    }
    if (i >= text.length) return { elements, problem: "JSON array is not terminated by ]" };
    if (text.charAt(i) === "]") break;
    const end = scanValue(text, i);
    if (end < 0 || end >= text.length) {
      elements.push(trimmedSpan(text, i, text.length));
      return { elements, problem: "JSON array is not terminated by ]" };
    }
    elements.push(trimmedSpan(text, i, end));
    i = end + 1;
    if (text.charAt(end) === "]") {
      i = end;
      break;
    }
  }
  const after = skipWhitespace(text, i + 1);
  if (after < text.length) return { elements, problem: "Unexpected text after the JSON array" };
  return { elements };
}

/**
 * Whether `text` (one line) is exactly one complete, balanced JSON object or array, judged by
 * brackets and strings only. Used to tell NDJSON from a pretty-printed JSON document.
 */
export function isCompleteJsonLine(text: string): boolean {
  const start = skipWhitespace(text, 0);
  const first = text.charAt(start);
  if (first !== "{" && first !== "[") return false;
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"') {
      i = skipString(text, i);
      if (i < 0) return false;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return skipWhitespace(text, i + 1) === text.length;
    }
    i++;
  }
  return false;
}

/**
 * The first key that occurs twice among the top-level keys of a JSON object, comparing decoded
 * keys exactly. Nested objects are not checked (their values are kept as given).
 *
 * @param text Valid JSON text of an object (already accepted by `JSON.parse`).
 * @returns The repeated key, or undefined when all keys are distinct.
 */
export function findDuplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"') {
      const end = skipString(text, i);
      if (end < 0) return undefined;
      if (depth === 1 && expectKey) {
        const key: unknown = JSON.parse(text.slice(i, end));
        if (typeof key === "string") {
          if (seen.has(key)) return key;
          seen.add(key);
        }
        expectKey = false;
      }
      i = end;
      continue;
    }
    if (c === "{" || c === "[") {
      depth++;
      expectKey = depth === 1 && c === "{";
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
    i++;
  }
  return undefined;
}

/**
 * How many members the top-level object of a JSON text has, counting repeated keys each time:
 * the colons at depth 1 outside strings. Equal to the parsed object's key count exactly when no
 * key repeats, which makes it a cheap screen before {@link findDuplicateKey}.
 *
 * @param text Valid JSON text of an object (already accepted by `JSON.parse`).
 */
export function countTopLevelKeys(text: string): number {
  let depth = 0;
  let count = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i);
      if (i < 0) return count;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++; // { [
    else if (c === 0x7d || c === 0x5d) depth--; // } ]
    else if (c === 0x3a && depth === 1) count++; // :
    i++;
  }
  return count;
}
