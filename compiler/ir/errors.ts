/**
 * The error of the IR layer: a kernel that is ill-typed, malformed, or cannot be parsed. `code` says
 * which kind, for callers and tests; the message names the op, its operands and what was expected.
 */
export type IrErrorCode =
  | 'dtype' //      an unknown dtype name, or a dtype an op does not accept
  | 'type' //       operands whose shapes, dtypes or spaces do not fit the op
  | 'structure' //  malformed IR: a value used before it is defined or outside its region, a missing yield
  | 'access' //     a store into an input tensor or a load from an output tensor
  | 'layout' //     a layout that does not fit its tile
  | 'parse' //      text that is not Tile IR
  | 'range'; //     a value outside what its dtype can hold (e.g. packing)

/**
 * A value as an error message shows it: numbers as JavaScript writes them (Infinity, NaN, 1e+308, where
 * JSON would write null), a missing value as "nothing", anything else as JSON (or its type's tag, where
 * JSON cannot write it).
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v); // circular
  }
}

/**
 * The most elements a tile may hold: far more than registers or shared memory take (a 2^24-element
 * f32 tile is 64 MiB), and small enough that every backend indexes a tile's elements with 32-bit ints
 * and the interpreter allocates one without running out of memory.
 */
export const MAX_TILE_ELEMENTS = 2 ** 24;

/** How deep regions (loop and branch bodies) may nest, and how many operations a grid extent may nest. */
export const MAX_NESTING = 64;

/**
 * Names no argument, parameter or extent may take: the properties every JavaScript object has
 * (constructor, toString, __proto__, ...), which a lookup by name in a plain object would find.
 */
export function reservedName(name: string): boolean {
  return name in Object.prototype;
}

/** The message for a reserved name: `${what} ${name} is reserved (...)`. */
export function reservedNameMessage(what: string, name: string): string {
  return `${what} ${name} is reserved (every JavaScript object has a property of that name)`;
}

export class IrError extends Error {
  readonly code: IrErrorCode;

  constructor(code: IrErrorCode, message: string) {
    super(message);
    this.name = 'IrError';
    this.code = code;
  }
}
