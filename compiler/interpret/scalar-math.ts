/**
 * What each elementwise op means, value by value: the definition every backend is tested against.
 *
 * Values are JS numbers holding exactly a value of their dtype. An op computes in float64 and rounds
 * once to its result dtype (`toDtype`): for floats that is round-to-nearest-even in the format, so add,
 * sub, mul, div and sqrt are correctly rounded for every format of 32 bits or fewer (float64 carries
 * more than twice their precision); transcendentals are float64 library results rounded once (within
 * an ulp of the exact value). Integers wrap to their width (two's complement), so integer arithmetic
 * is exact modular arithmetic.
 *
 * Rules where languages disagree, fixed here:
 *   - max/min: a NaN operand is ignored (the other one is returned; NaN only if both are NaN); when
 *     the operands compare equal, the first is returned (so max(-0, +0) = -0).
 *   - integer division truncates toward zero; x / 0 = -1 (all bits set) and x % 0 = x; the overflow
 *     MIN / -1 wraps to MIN with remainder 0 (the RISC-V rules, which C can implement without UB).
 *   - float rem is C's fmod: the sign of the dividend.
 *   - and/or/xor/not act on bits for integers and on truth values for bool.
 */
import type { Dtype } from '../ir/dtype.js';
import { convertNumber, wrapInt } from '../ir/dtype-convert.js';
import type { BinaryOp, CompareOp, UnaryOp } from '../ir/opcodes.js';

/** Rounds (floats) or wraps (integers) a float64 result into dtype d; bool is x != 0. */
export function toDtype(d: Dtype, x: number): number {
  if (d.kind === 'signed' || d.kind === 'unsigned') return wrapInt(d, x);
  return convertNumber(d, x);
}

export function unary(op: UnaryOp, d: Dtype, x: number): number {
  switch (op) {
    case 'neg':
      return toDtype(d, -x);
    case 'abs':
      return toDtype(d, Math.abs(x));
    case 'not':
      return d.kind === 'bool' ? (x ? 0 : 1) : wrapInt(d, ~x);
    case 'exp':
      return toDtype(d, Math.exp(x));
    case 'exp2':
      return toDtype(d, 2 ** x);
    case 'log':
      return toDtype(d, Math.log(x));
    case 'log2':
      return toDtype(d, Math.log2(x));
    case 'sqrt':
      return toDtype(d, Math.sqrt(x));
    case 'rsqrt':
      return toDtype(d, 1 / Math.sqrt(x));
    case 'tanh':
      return toDtype(d, Math.tanh(x));
    case 'erf':
      return toDtype(d, erf(x));
    case 'sigmoid':
      return toDtype(d, 1 / (1 + Math.exp(-x)));
  }
}

export function binary(op: BinaryOp, d: Dtype, a: number, b: number): number {
  const integer = d.kind === 'signed' || d.kind === 'unsigned';
  switch (op) {
    case 'add':
      return toDtype(d, a + b);
    case 'sub':
      return toDtype(d, a - b);
    case 'mul':
      // The low 32 bits of an integer product are exact with imul; a float64 product may not be.
      return integer ? wrapInt(d, Math.imul(a, b)) : toDtype(d, a * b);
    case 'div':
      if (!integer) return toDtype(d, a / b);
      return b === 0 ? wrapInt(d, -1) : wrapInt(d, Math.trunc(a / b));
    case 'rem':
      if (!integer) return toDtype(d, a % b);
      return b === 0 ? a : wrapInt(d, a - b * Math.trunc(a / b));
    case 'max':
      return Number.isNaN(a) ? b : Number.isNaN(b) ? a : a >= b ? a : b;
    case 'min':
      return Number.isNaN(a) ? b : Number.isNaN(b) ? a : a <= b ? a : b;
    case 'and':
      return d.kind === 'bool' ? Number(Boolean(a) && Boolean(b)) : wrapInt(d, a & b);
    case 'or':
      return d.kind === 'bool' ? Number(Boolean(a) || Boolean(b)) : wrapInt(d, a | b);
    case 'xor':
      return d.kind === 'bool' ? Number(Boolean(a) !== Boolean(b)) : wrapInt(d, a ^ b);
  }
}

/** Comparisons follow IEEE: every comparison with NaN is false except ne. Result 1 or 0. */
export function compare(op: CompareOp, a: number, b: number): number {
  switch (op) {
    case 'lt':
      return Number(a < b);
    case 'le':
      return Number(a <= b);
    case 'gt':
      return Number(a > b);
    case 'ge':
      return Number(a >= b);
    case 'eq':
      return Number(a === b);
    case 'ne':
      return Number(a !== b);
  }
}

/**
 * The error function in float64, to about 1e-15: its Taylor series below 3 (all terms add up with
 * alternating signs, losing at most 3 of 16 digits) and the continued fraction of erfc above.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) by Lentz's method.
  let f = ax;
  let c = ax;
  let dd = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    dd = ax + an * dd;
    dd = 1 / dd;
    c = ax + an / c;
    const delta = c * dd;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const F32_MAX = 3.4028234663852886e38;
const F32_OVERFLOW_MIDPOINT = 2 ** 128 - 2 ** 103;
const f32Bits = new Float32Array(1);
const f32Int = new Int32Array(f32Bits.buffer);

/** The f32 next to the finite f32 x in the direction of `toward`. */
function nextF32(x: number, toward: number): number {
  if (x === 0) return toward > 0 ? 2 ** -149 : -(2 ** -149);
  f32Bits[0] = x;
  f32Int[0]! += (toward > x) === (x > 0) ? 1 : -1;
  return f32Bits[0]!;
}

/**
 * fma in f32: a * b + c rounded once to f32 (round to nearest even), for a, b, c values of f32 or
 * narrower formats — what one step of a float dot is. a * b is exact in float64 (two 24-bit
 * significands); the sum is not always, but float64 rounding can only mislead the rounding to f32 when
 * it lands exactly on a midpoint between two f32 values (any midpoint is itself a float64, so the sum
 * cannot cross one), and then the sign of the part lost (TwoSum) decides.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = Math.fround(s);
  if (r === s || !Number.isFinite(s)) return r;
  const pp = s - c;
  const lost = p - pp + (c - (s - pp)); // exact: s + lost = p + c (Knuth's TwoSum)
  if (lost === 0) return r;
  if (!Number.isFinite(r)) {
    // s is exactly the midpoint between FLT_MAX and 2^128, which ties to infinity; a lost part toward
    // zero means the exact sum is below it.
    return Math.abs(s) === F32_OVERFLOW_MIDPOINT && Math.sign(lost) !== Math.sign(s) ? Math.sign(s) * F32_MAX : r;
  }
  const other = nextF32(r, s);
  if (Math.abs(s - r) !== Math.abs(other - s)) return r; // not a midpoint: r is nearest
  return (lost > 0) === (other > r) ? other : r;
}
