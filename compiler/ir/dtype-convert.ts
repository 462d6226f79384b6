/**
 * Value semantics of dtypes: what integer arithmetic wraps to, and what a `cast` between two dtypes
 * gives. The reference interpreter and constant folding use these; the backends must agree with them.
 *
 * The rules of convert(from, to, x):
 *   float -> float  round to nearest, ties to even; specials and overflow as in float-format.ts
 *   int   -> float  the same rounding (every int of 32 bits or fewer is exact in a JS number first)
 *   float -> int    floatToInt: truncate toward zero, saturate, NaN -> 0
 *   int   -> int    wrapInt: two's complement wrap to the target width
 *   any   -> bool   x != 0, so NaN -> true (1)
 *   bool  -> any    0 or 1, then as an unsigned integer (bool -> i1 therefore wraps 1 to -1)
 */
import { type Dtype, isFloat } from './dtype.js';
import { IrError } from './errors.js';
import { roundToFormat } from './float-format.js';

/**
 * wrapInt(d, x): the integer x wrapped to d's width in two's complement — x mod 2^bits, read as signed
 * for signed d. This is what integer arithmetic overflows to. Pre: d is an integer dtype and x a finite
 * integer (any magnitude: x % 2^bits is exact in doubles, but a product of two i32s is not exact, so
 * callers multiply with Math.imul or BigInt first). Returns +0, never -0.
 */
export function wrapInt(d: Dtype, x: number): number {
  requireInt(d, 'wrapInt');
  if (!Number.isInteger(x)) throw new IrError('range', `wrapInt(${d.name}, ${x}): not an integer`);
  const m = 2 ** d.bits;
  let r = x % m;
  if (r < 0) r += m;
  if (d.kind === 'signed' && r >= m / 2) r -= m;
  return r === 0 ? 0 : r;
}

/**
 * floatToInt(d, x): x truncated toward zero, then clamped to [d.minValue, d.maxValue]; NaN gives 0 and
 * ±Infinity the range ends. This is PTX's cvt.rzi.sat (float -> integer cvt saturates, NaN -> 0), applied
 * to every width, u1..u8 and i1..i8 included. Pre: d is an integer dtype. Returns +0, never -0.
 */
export function floatToInt(d: Dtype, x: number): number {
  requireInt(d, 'floatToInt');
  if (Number.isNaN(x)) return 0;
  return Math.min(d.maxValue, Math.max(d.minValue, Math.trunc(x))) + 0;
}

/**
 * convertNumber(to, x): the value a JS number (a float64) becomes when cast to `to` — the float -> *
 * rules above with float64 as the source. Total: any number, NaN and infinities included.
 */
export function convertNumber(to: Dtype, x: number): number {
  if (to.kind === 'bool') return x !== 0 ? 1 : 0;
  if (isFloat(to)) return roundToFormat(to, x);
  return floatToInt(to, x);
}

/**
 * convert(from, to, x): the value after `cast` from `from` to `to` of x, by the rules at the top of
 * this file. Pre: x is a value of `from` (integer sources must hold integers, else IrError('range')).
 */
export function convert(from: Dtype, to: Dtype, x: number): number {
  if (to.kind === 'bool') return x !== 0 ? 1 : 0;
  const v = from.kind === 'bool' ? (x !== 0 ? 1 : 0) : x;
  if (isFloat(to)) return roundToFormat(to, v);
  return isFloat(from) ? floatToInt(to, v) : wrapInt(to, v);
}

function requireInt(d: Dtype, fn: string): void {
  if (d.kind !== 'signed' && d.kind !== 'unsigned') {
    throw new IrError('dtype', `${fn} needs an integer dtype, got ${d.name}`);
  }
}
