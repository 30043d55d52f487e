/**
 * The telemetry field catalogue: the lookups derived from the field table (`field_table.ts`), the one
 * source of truth for every typed telemetry column.
 *
 * The parser, the zod schemas (`frame_schema.ts`), the `config` function and the test that compares
 * the catalogue with the database columns all read {@link FIELDS}, so they cannot drift apart.
 * Aliases are names only: they never convert units (a device sending `alt` in feet is still read as
 * metres), which is why unit-bearing MAVLink names such as `relative_alt` (mm) or `press_abs` (hPa)
 * are deliberately not aliases.
 *
 * @module
 */

import { type CatalogueField, type FieldName, FIELDS } from "./field_table.ts";

export type {
  BooleanFieldSpec,
  FieldGroup,
  FieldKind,
  FieldSpec,
  NumericFieldSpec,
  SqlType,
  TextFieldSpec,
} from "./field_spec.ts";
export { type CatalogueField, type FieldName, FIELDS };

/** Names of all catalogue fields in column order (for the DB column comparison test). */
export const FIELD_NAMES: readonly FieldName[] = FIELDS.map((f) => f.name);

/**
 * Metadata keys a frame may carry besides catalogue fields, with their accepted names.
 * `device_id` is not one: it comes from the device key, never from the body.
 */
export const METADATA_KEYS = {
  recorded_at: ["recorded_at", "ts", "time", "timestamp"],
  flight_id: ["flight_id"],
} as const;

/** Name of a metadata column a frame key can set. */
export type MetadataKey = keyof typeof METADATA_KEYS;

/** What a frame key resolves to. */
export type ResolvedKey =
  | { readonly type: "field"; readonly name: FieldName; readonly spec: CatalogueField }
  | { readonly type: "metadata"; readonly name: MetadataKey };

function buildLookup(): ReadonlyMap<string, ResolvedKey> {
  const lookup = new Map<string, ResolvedKey>();
  const add = (key: string, target: ResolvedKey): void => {
    const lower = key.toLowerCase();
    const existing = lookup.get(lower);
    if (existing !== undefined) {
      throw new TypeError(
        `Cannot build the catalogue: "${key}" names both "${existing.name}" and "${target.name}"`,
      );
    }
    lookup.set(lower, target);
  };
  for (const spec of FIELDS) add(spec.name, { type: "field", name: spec.name, spec });
  for (const key of METADATA_KEYS.recorded_at) add(key, { type: "metadata", name: "recorded_at" });
  for (const key of METADATA_KEYS.flight_id) add(key, { type: "metadata", name: "flight_id" });
  for (const spec of FIELDS) {
    for (const alias of spec.aliases) add(alias, { type: "field", name: spec.name, spec });
  }
  return lookup;
}

/**
 * Every accepted key (canonical names, aliases and metadata keys), lower-cased, to its target.
 * Building it throws a TypeError at module load if two fields share a name or alias.
 */
export const KEY_LOOKUP: ReadonlyMap<string, ResolvedKey> = buildLookup();

/**
 * Resolves a frame key (canonical name, alias or metadata key) case-insensitively.
 *
 * @param key Key as sent by the device.
 * @returns The field or metadata column, or undefined for an unknown key.
 */
export function resolveKey(key: string): ResolvedKey | undefined {
  return KEY_LOOKUP.get(key.toLowerCase());
}

/**
 * Finds a catalogue field by its canonical name or any alias, case-insensitively.
 *
 * @param nameOrAlias A column name or alias.
 * @returns The field, or undefined if the name is unknown or a metadata key.
 */
export function findField(nameOrAlias: string): CatalogueField | undefined {
  const resolved = resolveKey(nameOrAlias);
  return resolved?.type === "field" ? resolved.spec : undefined;
}

/** Catalogue fields by exact canonical name. */
export const FIELD_BY_NAME: ReadonlyMap<string, CatalogueField> = new Map(
  FIELDS.map((f) => [f.name, f]),
);

/** Whether `name` is exactly a catalogue column name (case-sensitive, no aliases). */
export function isFieldName(name: string): name is FieldName {
  return FIELD_BY_NAME.has(name);
}

/**
 * The reference API's `telemetry_fields`: every column name to its one-line description.
 *
 * @returns A fresh object, safe to serialise or modify.
 */
export function telemetryFieldDescriptions(): Record<string, string> {
  return Object.fromEntries(FIELDS.map((f) => [f.name, f.description]));
}
