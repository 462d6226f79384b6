/**
 * Float formats: exact conversion between JS numbers (float64) and the bit patterns of every float
 * dtype, from f3e1m1 to f32. A format is 1 sign bit, E exponent bits (bias 2^(E-1) - 1) and M mantissa
 * bits; exponent field 0 holds zero and the subnormals. Encoding rounds to nearest, ties to even,
 * straight from the float64 (one rounding, as a hardware f64 -> fN conversion would do).
 *
 * Special values — which codes are not finite numbers, chosen by `floatSpecials(bits, E, M)`:
 *
 * (a) 'ieee': 8 bits or more with E >= 5 (f8e5m2, f8e6m1, f16, bf16, f32). The all-ones exponent is
 *     reserved: mantissa 0 is ±infinity, anything else NaN. Overflow rounds to ±infinity under RNE
 *     (|x| >= max + half an ulp of max), ±infinity stays ±infinity. NaN encodes as the canonical quiet
 *     NaN: sign 0, all-ones exponent, only the top mantissa bit set (f32 0x7fc00000, f16 0x7e00,
 *     bf16 0x7fc0, f8e5m2 0x7e) — the pattern CUDA and V8's Float32Array produce.
 * (b) 'fn': 8-bit formats with E < 5 (f8e4m3, f8e3m4, ...), the OCP "FN" convention: no infinity,
 *     one NaN pattern S.1...1 (exponent and mantissa all ones), every other code finite, so f8e4m3's
 *     max is 448. Overflow and ±infinity saturate to ±max; NaN encodes as 0x7f. f8e7m0 falls here
 *     too, because with no mantissa bit the IEEE rule would leave it no NaN code.
 * (c) 'finite': formats narrower than 8 bits (f6e3m2, f6e2m3, f5e2m2, f4e2m1, f3e1m1, ...), OCP MX
 *     style: every code is a finite number (f4e2m1 max 6, f6e2m3 max 7.5, f6e3m2 max 28). Overflow
 *     and ±infinity saturate to ±max. NaN encodes as +0: formats without NaN have no way to say it;
 *     we pick +0 so it never poisons a sum.
 *
 * Every format has a sign bit, so -0 encodes as the sign bit alone and decodes back to -0.
 */
import { IrError } from './errors.js';

export type FloatSpecials = 'ieee' | 'fn' | 'finite';

/** The shape of a float format; every float Dtype is one. */
export interface FloatFormat {
  readonly name: string;
  readonly bits: number; // 1 + exponentBits + mantissaBits
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly bias: number; // 2^(exponentBits - 1) - 1
  readonly specials: FloatSpecials;
}

/** The special-value convention of a format of `bits` = 1 + E + M bits (the rule at the top of this file). */
export function floatSpecials(bits: number, exponentBits: number, mantissaBits: number): FloatSpecials {
  if (bits < 8) return 'finite';
  return exponentBits >= 5 && mantissaBits >= 1 ? 'ieee' : 'fn';
}

/** The largest finite magnitude code (the code of max, sign bit clear). */
export function maxFiniteCode(f: FloatFormat): number {
  const magnitudes = 2 ** (f.bits - 1);
  if (f.specials === 'ieee') return magnitudes - 2 ** f.mantissaBits - 1; // below the all-ones exponent
  if (f.specials === 'fn') return magnitudes - 2; // below S.1...1
  return magnitudes - 1;
}

/** The code NaN encodes to: the canonical NaN, or +0 for 'finite' formats (see the top of this file). */
export function nanCode(f: FloatFormat): number {
  const magnitudes = 2 ** (f.bits - 1);
  if (f.specials === 'ieee') return magnitudes - 2 ** f.mantissaBits + 2 ** (f.mantissaBits - 1);
  if (f.specials === 'fn') return magnitudes - 1;
  return 0;
}

/** The code of +infinity, or undefined where the format has none. */
function infinityCode(f: FloatFormat): number | undefined {
  return f.specials === 'ieee' ? 2 ** (f.bits - 1) - 2 ** f.mantissaBits : undefined;
}

/**
 * encodeFloat(f, x): the bit pattern (an unsigned integer < 2^f.bits) of x rounded to f — nearest,
 * ties to even, subnormals kept, specials and overflow as in the rule at the top of this file.
 */
export function encodeFloat(f: FloatFormat, x: number): number {
  if (Number.isNaN(x)) return nanCode(f);
  const sign = x < 0 || Object.is(x, -0) ? 2 ** (f.bits - 1) : 0;
  const a = Math.abs(x);
  const max = maxFiniteCode(f);
  if (a === Infinity) return sign + (infinityCode(f) ?? max);
  const M = f.mantissaBits;
  const emin = 1 - f.bias;
  // Split a = q * ulp with the ulp of a's binade (or of the subnormals), round q to an integer.
  // The magnitude code is then exponentField * 2^M + mantissa; a rounding carry out of the mantissa
  // lands in the exponent field by itself, and past the largest exponent it reads as overflow.
  let magnitude: number;
  if (a < 2 ** emin) {
    magnitude = roundHalfEven(a / 2 ** (emin - M)); // subnormal: exponent field 0, or 1 after a carry
  } else {
    const e = exponentOf(a);
    magnitude = (e + f.bias) * 2 ** M + roundHalfEven(a / 2 ** (e - M)) - 2 ** M;
  }
  if (magnitude > max) magnitude = infinityCode(f) ?? max;
  return sign + magnitude;
}

// The halves of a float64's bits: words[1] holds the sign, the exponent and the top 20 mantissa bits
// (little-endian, as every platform Node runs on is).
const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);

/**
 * encodeFloats(f, values, out): out[i] = encodeFloat(f, values[i]), the same codes, 10-20x faster
 * for values in f's normal range: the float64's mantissa is rounded to f's on its bits (half to even),
 * a carry out of the mantissa landing in the exponent field as it does in encodeFloat. Zeros,
 * subnormals, overflow, infinities and NaN take encodeFloat itself.
 */
export function encodeFloats(f: FloatFormat, values: ArrayLike<number>, out: { [index: number]: number }): void {
  const M = f.mantissaBits;
  const max = maxFiniteCode(f);
  const shift = 20 - M; // mantissa bits of the high word that are rounded off
  if (shift < 1) {
    for (let i = 0; i < values.length; i++) out[i] = encodeFloat(f, values[i]!);
    return;
  }
  const half = 2 ** (shift - 1);
  const restMask = 2 ** shift - 1;
  const rebias = 1023 - f.bias;
  const fieldScale = 2 ** M;
  const lastField = 2 ** f.exponentBits - 1;
  const sign = 2 ** (f.bits - 1);
  for (let i = 0; i < values.length; i++) {
    scratch[0] = values[i]!;
    const hi = words[1]!;
    const field = ((hi >>> 20) & 0x7ff) - rebias;
    if (field >= 1 && field <= lastField) {
      const mantissa = (hi & 0xfffff) >>> shift;
      const rest = hi & restMask;
      let magnitude = field * fieldScale + mantissa;
      // A tie goes to the even significand, implicit bit included (which decides it when M = 0).
      if (rest > half || (rest === half && (words[0] !== 0 || ((fieldScale + mantissa) & 1) === 1))) magnitude++;
      if (magnitude <= max) {
        out[i] = hi >>> 31 === 1 ? sign + magnitude : magnitude;
        continue;
      }
    }
    out[i] = encodeFloat(f, values[i]!);
  }
}

/** decodeFloat(f, code): the exact value of a bit pattern of f (NaN for NaN codes, ±Infinity for infinities). */
export function decodeFloat(f: FloatFormat, code: number): number {
  const signBit = 2 ** (f.bits - 1);
  if (!Number.isInteger(code) || code < 0 || code >= 2 * signBit) {
    throw new IrError('range', `${code} is not a ${f.bits}-bit pattern of ${f.name}`);
  }
  const negative = code >= signBit;
  const magnitude = negative ? code - signBit : code;
  const M = f.mantissaBits;
  const field = Math.floor(magnitude / 2 ** M);
  const mantissa = magnitude - field * 2 ** M;
  let v: number;
  if (f.specials === 'ieee' && field === 2 ** f.exponentBits - 1) v = mantissa === 0 ? Infinity : NaN;
  else if (f.specials === 'fn' && magnitude === signBit - 1) v = NaN;
  else if (field === 0) v = mantissa * 2 ** (1 - f.bias - M);
  else v = (2 ** M + mantissa) * 2 ** (field - f.bias - M);
  return negative ? -v : v;
}

/** roundToFormat(f, x) = decodeFloat(f, encodeFloat(f, x)): the value of f nearest to x, under the rules above. */
export function roundToFormat(f: FloatFormat, x: number): number {
  return decodeFloat(f, encodeFloat(f, x));
}

/** floor(log2(a)) exactly, for finite a > 0 (Math.log2 may be off by one next to a power of two). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  return e;
}

/** q rounded to an integer, ties to even. Exact for 0 <= q < 2^52: q - floor(q) is computed without error. */
function roundHalfEven(q: number): number {
  const floor = Math.floor(q);
  const frac = q - floor;
  if (frac > 0.5 || (frac === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}
