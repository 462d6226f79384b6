/**
 * Dtypes: the element types of tiles and tensors, as immutable values. `dtype(name)` caches by name, so
 * two dtypes are the same type exactly when they are the same object (`a === b`).
 *
 * Names: f32, f16, bf16, i32, u32, bool; u1..u8 and i1..i8; small floats f{B}e{E}m{M} with
 * B = 1 + E + M <= 8, E >= 1, M >= 0 (f8e4m3, f8e5m2, f6e3m2, ... and any other valid combination).
 * Value conversions live in float-format.ts and dtype-convert.ts, bit packing in pack.ts.
 */
import { IrError } from './errors.js';
import { type FloatFormat, type FloatSpecials, decodeFloat, floatSpecials, maxFiniteCode } from './float-format.js';

export type { FloatSpecials } from './float-format.js';

export type DtypeKind = 'float' | 'signed' | 'unsigned' | 'bool';

export interface Dtype {
  readonly name: string;
  readonly kind: DtypeKind;
  /**
   * Storage width in bits, as the element sits in a packed tensor (pack.ts). bool is 1: bool tensors
   * are packed one bit per element; a backend may widen a bool in registers, which changes nothing here.
   */
  readonly bits: number;
  readonly minValue: number; // the most negative finite value (0 for unsigned and bool)
  readonly maxValue: number; // the largest finite value (1 for bool)
  readonly hasInfinity: boolean;
  readonly hasNaN: boolean;
  // Floats only (see FloatDtype):
  readonly exponentBits?: number;
  readonly mantissaBits?: number;
  readonly bias?: number;
  readonly specials?: FloatSpecials;
  readonly maxFinite?: number;
  readonly minNormal?: number;
  readonly minPositive?: number;
}

/** A float dtype: a Dtype whose format fields are all present. */
export interface FloatDtype extends Dtype, FloatFormat {
  readonly kind: 'float';
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly bias: number;
  readonly specials: FloatSpecials;
  readonly maxFinite: number; // = maxValue
  readonly minNormal: number; // 2^(1 - bias)
  readonly minPositive: number; // the smallest positive value: 2^(1 - bias - M), a subnormal when M > 0
}

const cache = new Map<string, Dtype>();

/**
 * dtype(name): the dtype called `name` (see the top of this file for the names). The same name always
 * gives the same frozen object. Throws IrError('dtype') naming `name` when it is not a dtype.
 */
export function dtype(name: string): Dtype {
  let d = cache.get(name);
  if (d === undefined) {
    d = Object.freeze(parseDtype(name));
    cache.set(name, d);
  }
  return d;
}

function parseDtype(name: string): Dtype {
  const fixed = FIXED.get(name);
  if (fixed !== undefined) return fixed();
  const int = /^([iu])([1-8])$/.exec(name);
  if (int !== null) return intDtype(name, int[1] === 'i' ? 'signed' : 'unsigned', Number(int[2]));
  const small = /^f([1-9])e(0|[1-9]\d*)m(0|[1-9]\d*)$/.exec(name);
  if (small !== null) {
    const [b, e, m] = [Number(small[1]), Number(small[2]), Number(small[3])];
    if (b > 8 || e < 1 || b !== 1 + e + m) {
      throw new IrError('dtype', `bad small float '${name}': need f{B}e{E}m{M} with B = 1 + E + M <= 8 and E >= 1`);
    }
    return floatDtype(name, e, m);
  }
  throw new IrError(
    'dtype',
    `unknown dtype '${name}': expected f32, f16, bf16, i32, u32, bool, u1..u8, i1..i8 or f{B}e{E}m{M} (B = 1+E+M <= 8)`,
  );
}

// A Map, not an object literal: a name like 'constructor' must not find Object.prototype's members.
const FIXED = new Map<string, () => Dtype>([
  ['f32', () => floatDtype('f32', 8, 23)],
  ['f16', () => floatDtype('f16', 5, 10)],
  ['bf16', () => floatDtype('bf16', 8, 7)],
  ['i32', () => intDtype('i32', 'signed', 32)],
  ['u32', () => intDtype('u32', 'unsigned', 32)],
  ['bool', boolDtype],
]);

function boolDtype(): Dtype {
  return { name: 'bool', kind: 'bool', bits: 1, minValue: 0, maxValue: 1, hasInfinity: false, hasNaN: false };
}

function intDtype(name: string, kind: 'signed' | 'unsigned', bits: number): Dtype {
  const [minValue, maxValue] = kind === 'signed' ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
  return { name, kind, bits, minValue, maxValue, hasInfinity: false, hasNaN: false };
}

function floatDtype(name: string, exponentBits: number, mantissaBits: number): FloatDtype {
  const bits = 1 + exponentBits + mantissaBits;
  const specials = floatSpecials(bits, exponentBits, mantissaBits);
  const format = { name, bits, exponentBits, mantissaBits, bias: 2 ** (exponentBits - 1) - 1, specials };
  const maxFinite = decodeFloat(format, maxFiniteCode(format));
  return {
    ...format,
    kind: 'float',
    minValue: -maxFinite,
    maxValue: maxFinite,
    hasInfinity: specials === 'ieee',
    hasNaN: specials !== 'finite',
    maxFinite,
    minNormal: 2 ** (1 - format.bias),
    minPositive: 2 ** (1 - format.bias - mantissaBits),
  };
}

/** True for float dtypes, narrowing to FloatDtype. */
export function isFloat(d: Dtype): d is FloatDtype {
  return d.kind === 'float';
}

/** True for the integer dtypes, signed or unsigned (not bool). */
export function isInt(d: Dtype): boolean {
  return d.kind === 'signed' || d.kind === 'unsigned';
}

export function isBool(d: Dtype): boolean {
  return d.kind === 'bool';
}

/**
 * True for the types that live packed below byte granularity or in the small-float family: bits < 8
 * (u1..u7, i1..i7, bool, f3..f7 floats) or an 8-bit float (f8e4m3, f8e5m2, ...). u8 and i8 are not low-bit.
 */
export function isLowBit(d: Dtype): boolean {
  return d.bits < 8 || (d.kind === 'float' && d.bits <= 8);
}

function named(name: string): Dtype {
  return dtype(name);
}

function namedFloat(name: string): FloatDtype {
  const d = dtype(name);
  if (!isFloat(d)) throw new IrError('dtype', `${name} is not a float`);
  return d;
}

export const f32 = namedFloat('f32');
export const f16 = namedFloat('f16');
export const bf16 = namedFloat('bf16');
export const i32 = named('i32');
export const u32 = named('u32');
const bool_ = named('bool');
export { bool_ as bool };

export const u1 = named('u1');
export const u2 = named('u2');
export const u3 = named('u3');
export const u4 = named('u4');
export const u5 = named('u5');
export const u6 = named('u6');
export const u7 = named('u7');
export const u8 = named('u8');
export const i1 = named('i1');
export const i2 = named('i2');
export const i3 = named('i3');
export const i4 = named('i4');
export const i5 = named('i5');
export const i6 = named('i6');
export const i7 = named('i7');
export const i8 = named('i8');

export const f8e4m3 = namedFloat('f8e4m3');
export const f8e5m2 = namedFloat('f8e5m2');
export const f6e3m2 = namedFloat('f6e3m2');
export const f6e2m3 = namedFloat('f6e2m3');
export const f5e2m2 = namedFloat('f5e2m2');
export const f4e2m1 = namedFloat('f4e2m1');
export const f3e1m1 = namedFloat('f3e1m1');

/** Every dtype exported above, in the order above. */
export const namedDtypes: readonly Dtype[] = Object.freeze([
  f32, f16, bf16, i32, u32, bool_,
  u1, u2, u3, u4, u5, u6, u7, u8, i1, i2, i3, i4, i5, i6, i7, i8,
  f8e4m3, f8e5m2, f6e3m2, f6e2m3, f5e2m2, f4e2m1, f3e1m1,
]);
