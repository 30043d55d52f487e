/**
 * What a catalogue field is (its column type, kind, unit, bounds, aliases) and the small builders
 * that the field table (`field_table.ts`) is written with.
 *
 * @module
 */

/** Postgres type of a catalogue column. */
export type SqlType = "real" | "double precision" | "integer" | "smallint" | "boolean" | "text";

/** JSON/TypeScript kind a value of the field has after parsing. */
export type FieldKind = "number" | "integer" | "boolean" | "text";

/** Group a field belongs to, for documentation and the config endpoint. */
export type FieldGroup =
  | "flight_control"
  | "attitude"
  | "rates"
  | "accelerometer"
  | "gps"
  | "barometer"
  | "altitude"
  | "battery"
  | "motors"
  | "pid"
  | "rc"
  | "velocity"
  | "position"
  | "magnetometer"
  | "environment"
  | "failsafe"
  | "vibration"
  | "mavlink";

/** One typed telemetry field: a column of the telemetry table. */
export interface FieldSpec {
  /** Database column name, also the canonical key in parsed frames. */
  readonly name: string;
  /** Postgres column type. */
  readonly sqlType: SqlType;
  /** Kind of the parsed value. */
  readonly kind: FieldKind;
  /** Unit of the value, or null when unitless. */
  readonly unit: string | null;
  /** Smallest accepted value (number and integer kinds), else null. */
  readonly min: number | null;
  /** Largest accepted value (number and integer kinds), else null. */
  readonly max: number | null;
  /** Longest accepted text in characters (text kind), else null. */
  readonly maxLength: number | null;
  /** Other names devices may send for this field (matched case-insensitively). */
  readonly aliases: readonly string[];
  /** One-line description, shown by the config endpoint. */
  readonly description: string;
  /** Group the field belongs to. */
  readonly group: FieldGroup;
}

/** A number or integer field: always has a range. */
export interface NumericFieldSpec extends FieldSpec {
  readonly kind: "number" | "integer";
  readonly min: number;
  readonly max: number;
  readonly maxLength: null;
}

/** A boolean field: no unit, range or length. */
export interface BooleanFieldSpec extends FieldSpec {
  readonly kind: "boolean";
  readonly unit: null;
  readonly min: null;
  readonly max: null;
  readonly maxLength: null;
}

/** A text field: always has a maximum length. */
export interface TextFieldSpec extends FieldSpec {
  readonly kind: "text";
  readonly unit: null;
  readonly min: null;
  readonly max: null;
  readonly maxLength: number;
}

export interface RangeInput {
  readonly unit: string | null;
  readonly min: number;
  readonly max: number;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly group: FieldGroup;
}

export type Plain = Omit<RangeInput, "min" | "max" | "unit">;

function numeric<const N extends string, const K extends "number" | "integer">(
  name: N,
  kind: K,
  sqlType: SqlType,
  input: RangeInput,
): NumericFieldSpec & { readonly name: N; readonly kind: K } {
  return { name, sqlType, kind, maxLength: null, ...input };
}

export const real = <const N extends string>(name: N, input: RangeInput) =>
  numeric(name, "number", "real", input);
export const double = <const N extends string>(name: N, input: RangeInput) =>
  numeric(name, "number", "double precision", input);
export const integer = <const N extends string>(name: N, input: RangeInput) =>
  numeric(name, "integer", "integer", input);
export const smallint = <const N extends string>(name: N, input: RangeInput) =>
  numeric(name, "integer", "smallint", input);

export function boolean<const N extends string>(
  name: N,
  input: Plain,
): BooleanFieldSpec & { readonly name: N } {
  return {
    name,
    sqlType: "boolean",
    kind: "boolean",
    unit: null,
    min: null,
    max: null,
    maxLength: null,
    ...input,
  };
}

export function text<const N extends string>(
  name: N,
  maxLength: number,
  input: Plain,
): TextFieldSpec & { readonly name: N } {
  return {
    name,
    sqlType: "text",
    kind: "text",
    unit: null,
    min: null,
    max: null,
    maxLength,
    ...input,
  };
}

export const motor = <const N extends number>(n: N) =>
  integer(`motor${n}_pwm`, {
    unit: "us",
    min: 0,
    max: 3000,
    aliases: [`m${n}`, `motor${n}`, `mot${n}`, `esc${n}`, `motor_${n}`, `servo${n}_raw`],
    description: `Motor ${n} output (PWM pulse width in microseconds, 0 when stopped)`,
    group: "motors",
  });

export const pid = <const A extends "roll" | "pitch" | "yaw", const T extends "p" | "i" | "d">(
  axis: A,
  term: T,
) =>
  real(`pid_${axis}_${term}`, {
    unit: null,
    min: -1e6,
    max: 1e6,
    aliases: [`${axis}_${term}`, `${term}_${axis}`],
    description: `PID controller ${axis} ${term.toUpperCase()} term`,
    group: "pid",
  });

export const rc = <const N extends string>(
  name: N,
  channel: number,
  extra: readonly string[],
  description: string,
) =>
  real(name, {
    unit: null,
    min: -3000,
    max: 3000,
    aliases: [`rc${channel}`, `ch${channel}`, `rc_ch${channel}`, `chan${channel}_raw`, ...extra],
    description: `${description} (RC channel ${channel}: PWM microseconds or normalised)`,
    group: "rc",
  });

export const axis3 = <const P extends string, const S extends string>(
  prefix: P,
  suffix: S,
  common: Omit<RangeInput, "aliases" | "description">,
  aliases: (a: "x" | "y" | "z") => readonly string[],
  description: (a: "X" | "Y" | "Z") => string,
) =>
  [
    real(`${prefix}x${suffix}`, {
      ...common,
      aliases: aliases("x"),
      description: description("X"),
    }),
    real(`${prefix}y${suffix}`, {
      ...common,
      aliases: aliases("y"),
      description: description("Y"),
    }),
    real(`${prefix}z${suffix}`, {
      ...common,
      aliases: aliases("z"),
      description: description("Z"),
    }),
  ] as const;
