/**
 * Host-side bit packing: how a tensor of any dtype up to 32 bits lies in memory as 32-bit words.
 * Element i of a w-bit dtype occupies bits [i*w, i*w + w) of a little-endian stream of words (bit k is
 * bit k % 32 of word k / 32), so an element straddles two words when w does not divide 32; the last
 * word is zero-padded. The bit-packing pass emits device code for exactly this layout.
 */
import { type Dtype, isFloat } from './dtype.js';
import { convertNumber } from './dtype-convert.js';
import { IrError } from './errors.js';
import { decodeFloat, encodeFloat } from './float-format.js';

/** packedWords(d, count): how many 32-bit words hold `count` elements of d, i.e. ceil(count * bits / 32). */
export function packedWords(d: Dtype, count: number): number {
  return wordsFor(d.bits, count);
}

/**
 * toBits(d, x): the bit pattern (an unsigned integer < 2^d.bits) of the JS number x cast to d
 * (convertNumber): two's complement for signed ints, the float-format.ts encoding for floats, 0/1 for bool.
 */
export function toBits(d: Dtype, x: number): number {
  if (isFloat(d)) return encodeFloat(d, x); // not via convertNumber: a NaN value cannot say which NaN code
  const v = convertNumber(d, x);
  return v < 0 ? v + 2 ** d.bits : v;
}

/** fromBits(d, bits): the value of d whose pattern is `bits` (signed ints sign-extended); toBits undoes it. */
export function fromBits(d: Dtype, bits: number): number {
  checkPattern(d.bits, bits);
  if (isFloat(d)) return decodeFloat(d, bits);
  if (d.kind === 'signed' && bits >= 2 ** (d.bits - 1)) return bits - 2 ** d.bits;
  return bits;
}

/** pack(d, values): each value cast to d (convertNumber) and its pattern stored at bit i*d.bits. */
export function pack(d: Dtype, values: ArrayLike<number>): Uint32Array {
  return packBits(d.bits, Array.from(values, (x) => toBits(d, x)));
}

/** unpack(d, words, count): the first `count` values of d in `words`. Throws IrError('range') if words is too short. */
export function unpack(d: Dtype, words: Uint32Array, count: number): Float64Array {
  const bits = unpackBits(d.bits, words, count);
  return Float64Array.from(bits, (b) => fromBits(d, b));
}

/**
 * packBits(width, patterns): the raw patterns (integers in [0, 2^width), 1 <= width <= 32) laid out as
 * described at the top of this file. Throws IrError('range') for a pattern that does not fit.
 */
export function packBits(width: number, patterns: ArrayLike<number>): Uint32Array {
  const words = new Uint32Array(wordsFor(width, patterns.length));
  for (let i = 0; i < patterns.length; i++) {
    const p = patterns[i]!;
    checkPattern(width, p);
    const bit = i * width;
    const [w, off] = [Math.floor(bit / 32), bit % 32];
    // `<<` keeps the low 32 bits, which is the part that lands in this word; the Uint32Array store
    // reads the int32 result modulo 2^32.
    words[w]! |= p << off;
    if (off + width > 32) words[w + 1]! |= p >>> (32 - off);
  }
  return words;
}

/** unpackBits(width, words, count): the first `count` raw patterns in `words`. IrError('range') if words is short. */
export function unpackBits(width: number, words: Uint32Array, count: number): Uint32Array {
  const need = wordsFor(width, count);
  if (words.length < need) {
    throw new IrError('range', `${count} elements of ${width} bits need ${need} words, got ${words.length}`);
  }
  const mask = width === 32 ? 0xffffffff : 2 ** width - 1;
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const bit = i * width;
    const [w, off] = [Math.floor(bit / 32), bit % 32];
    let v = words[w]! >>> off;
    if (off + width > 32) v |= words[w + 1]! << (32 - off);
    out[i] = v & mask; // the store reads a negative int32 (width 32) modulo 2^32
  }
  return out;
}

function wordsFor(width: number, count: number): number {
  if (!Number.isInteger(width) || width < 1 || width > 32) {
    throw new IrError('range', `cannot pack ${width}-bit elements`);
  }
  if (!Number.isInteger(count) || count < 0) throw new IrError('range', `bad element count ${count}`);
  return Math.ceil((count * width) / 32);
}

function checkPattern(width: number, p: number): void {
  if (!Number.isInteger(p) || p < 0 || p >= 2 ** width) {
    throw new IrError('range', `${p} is not a ${width}-bit pattern`);
  }
}
