/**
 * Tiles at run time in the interpreter: row-major arrays of float64 values, each exactly a value of
 * the tile's dtype, and the shape-only operations on them (broadcast, permute, reduce, dot).
 */
import type { Dtype } from '../ir/dtype.js';
import type { ReduceKind } from '../ir/opcodes.js';
import { binary, fmaF32, toDtype } from './scalar-math.js';

export interface Tile {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function tile(shape: readonly number[], data?: Float64Array): Tile {
  return { shape: [...shape], data: data ?? new Float64Array(sizeOf(shape)) };
}

/** Applies f to every element (the elementwise ops). */
export function map(shape: readonly number[], f: (i: number) => number): Tile {
  const out = tile(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(i);
  return out;
}

/** `t` repeated along its extent-1 dims and missing leading dims up to `shape` (numpy broadcasting). */
export function broadcast(t: Tile, shape: readonly number[]): Tile {
  const lead = shape.length - t.shape.length;
  const src = stridesOf(t.shape);
  const dst = stridesOf(shape);
  return map(shape, (i) => {
    let offset = 0;
    for (let d = 0; d < t.shape.length; d++) {
      if (t.shape[d] !== 1) offset += (Math.floor(i / dst[lead + d]!) % shape[lead + d]!) * src[d]!;
    }
    return t.data[offset]!;
  });
}

/** Dims reordered: out[c] = t[c permuted back], with out.shape[k] = t.shape[perm[k]]. */
export function permute(t: Tile, perm: readonly number[]): Tile {
  const shape = perm.map((p) => t.shape[p]!);
  const src = stridesOf(t.shape);
  const dst = stridesOf(shape);
  return map(shape, (i) => {
    let offset = 0;
    for (let k = 0; k < perm.length; k++) offset += (Math.floor(i / dst[k]!) % shape[k]!) * src[perm[k]!]!;
    return t.data[offset]!;
  });
}

/**
 * Lanes of a float sum or product: element k goes to lane k % SUM_LANES, each lane accumulates its
 * elements in index order, and the lanes combine pairwise (lane l with lane l + w for w = 8, 4, 2, 1).
 * float64 addition is not associative, so the order is part of the definition; this one is what a
 * CPU's vector units compute without reassociating anything (16 doubles: two AVX-512 or four AVX2
 * registers), so the C backend can match it bit for bit at full speed.
 */
export const SUM_LANES = 16;

/**
 * Reduction along `axis`. sum and prod of floats accumulate in float64 in the SUM_LANES order above and
 * round once to the dtype; integers wrap after every step, which is exact in any order. max and min use
 * the elementwise rules in index order (the first of equal extremes wins); argmax/argmin give the
 * smallest index of the extreme value, skipping NaNs (0 if all are NaN).
 */
export function reduce(t: Tile, d: Dtype, kind: ReduceKind, axis: number, outShape: readonly number[]): Tile {
  const n = t.shape[axis]!;
  const inner = sizeOf(t.shape.slice(axis + 1));
  const integer = d.kind === 'signed' || d.kind === 'unsigned';
  return map(outShape, (o) => {
    const base = Math.floor(o / inner) * n * inner + (o % inner);
    const at = (k: number) => t.data[base + k * inner]!;
    switch (kind) {
      case 'sum':
      case 'prod': {
        const op = kind === 'sum' ? 'add' : 'mul';
        const identity = kind === 'sum' ? 0 : 1;
        if (integer) {
          let acc = identity;
          for (let k = 0; k < n; k++) acc = binary(op, d, acc, at(k));
          return acc;
        }
        const lanes = new Array<number>(SUM_LANES).fill(identity);
        for (let k = 0; k < n; k++) lanes[k % SUM_LANES] = op === 'add' ? lanes[k % SUM_LANES]! + at(k) : lanes[k % SUM_LANES]! * at(k);
        for (let w = SUM_LANES / 2; w >= 1; w /= 2) for (let l = 0; l < w; l++) lanes[l] = op === 'add' ? lanes[l]! + lanes[l + w]! : lanes[l]! * lanes[l + w]!;
        return toDtype(d, lanes[0]!);
      }
      case 'max':
      case 'min': {
        let acc = at(0);
        for (let k = 1; k < n; k++) acc = binary(kind, d, acc, at(k));
        return acc;
      }
      case 'argmax':
      case 'argmin': {
        let best = -1;
        for (let k = 0; k < n; k++) {
          const v = at(k);
          if (Number.isNaN(v)) continue;
          if (best < 0 || (kind === 'argmax' ? v > at(best) : v < at(best))) best = k;
        }
        return Math.max(best, 0);
      }
    }
  });
}

/**
 * acc + a @ b for a [M,K], b [K,N]. Floats: each output starts from acc and takes one f32 fused
 * multiply-add per k, in index order (what a vector unit's FMA computes, so a backend can be exact and
 * fast), then rounds once to the result dtype. Integers: wrapped products and sums, exact in any order.
 */
export function dot(a: Tile, b: Tile, acc: Tile, d: Dtype): Tile {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const integer = d.kind === 'signed' || d.kind === 'unsigned';
  return map([m, n], (o) => {
    const [i, j] = [Math.floor(o / n), o % n];
    let s = acc.data[o]!;
    for (let kk = 0; kk < k; kk++) {
      const [x, y] = [a.data[i * k + kk]!, b.data[kk * n + j]!];
      s = integer ? binary('add', d, s, binary('mul', d, x, y)) : fmaF32(x, y, s);
    }
    return toDtype(d, s);
  });
}
