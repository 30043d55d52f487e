/**
 * The empty row a frame's values are written into: a copy of a template holding the row's keys.
 *
 * A row has up to 82 keys. Added one by one to `{}`, they cost V8 a larger backing store every few
 * keys and, under `--optimize-for-size` (the function host's flag when measured; see
 * scripts/stack/services.ts), a slow transition each: measured 12 µs and 12 KiB for an 86-key
 * row, 12 µs for a 29-key one, against 1.4 µs and 0.7 KiB for `{ ...template }` of a template
 * made by JSON.parse (whose objects have their keys in place). That allocation was a third of
 * all an 80-field frame made, and GC 44% of its parsing and encoding CPU. A body's rows nearly
 * always share their keys, so the last shape's template is kept, and a few others by their key
 * lists.
 */

const MAX_TEMPLATES = 64;
const templates = new Map<string, Readonly<Record<string, null>>>();
let lastKeys: readonly string[] = [];
let lastTemplate: Readonly<Record<string, null>> = {};

function isLastShape(keys: readonly string[], count: number): boolean {
  if (count !== lastKeys.length) return false;
  for (let i = 0; i < count; i++) if (keys[i] !== lastKeys[i]) return false;
  return true;
}

/**
 * An object with these keys, in this order, each null: a fresh copy each call, to be filled.
 * @param keys The row's keys in the order its consumers expect, in its first `count` entries
 *   (a scratch array the caller fills again for the next row: copied when kept).
 */
export function emptyRow(keys: readonly string[], count = keys.length): Record<string, unknown> {
  if (!isLastShape(keys, count)) {
    const shape = keys.slice(0, count);
    const signature = shape.join(",");
    let template = templates.get(signature);
    if (template === undefined) {
      if (templates.size >= MAX_TEMPLATES) templates.clear();
      template = JSON.parse(`{${shape.map((key) => `${JSON.stringify(key)}:null`).join(",")}}`);
      templates.set(signature, template!);
    }
    lastKeys = shape;
    lastTemplate = template!;
  }
  return { ...lastTemplate };
}
