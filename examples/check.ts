/**
 * What the examples share: seeded random inputs (a fresh seed each run, printed so a failure can be
 * replayed), float64 references, and the comparison that decides PASS or FAIL.
 */
import { type Dtype, f32 } from '../compiler/ir/dtype.js';
import { type HostTensor, hostTensor } from '../compiler/interpret/index.js';

/** A small, fast, seedable generator (mulberry32): uniform floats in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}

/** An integer in [lo, hi]. */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** A tensor of uniform values in [lo, hi), rounded to the dtype. */
export function randomTensor(r: () => number, shape: readonly number[], lo = -1, hi = 1, d: Dtype = f32): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return hostTensor(d, shape, Float64Array.from({ length: n }, () => lo + (hi - lo) * r()));
}

/** A tensor of NaNs: an output, poisoned so that elements the kernel does not write show up. */
export function poisoned(shape: readonly number[], d: Dtype = f32): HostTensor {
  const t = hostTensor(d, shape);
  t.data.fill(NaN);
  return t;
}

export interface Comparison {
  readonly maxAbsError: number;
  readonly maxRelError: number;
  readonly pass: boolean;
}

/**
 * Compares element by element: passes when every |got - want| <= atol + rtol * |want| (NaN never
 * passes, so unwritten poisoned outputs fail).
 */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): Comparison {
  if (got.length !== want.length) throw new Error(`compare: ${got.length} values against ${want.length}`);
  let maxAbsError = 0;
  let maxRelError = 0;
  let pass = true;
  for (let i = 0; i < got.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    const err = Math.abs(g - w);
    if (!(err <= atol + rtol * Math.abs(w))) pass = false;
    maxAbsError = Math.max(maxAbsError, Number.isNaN(err) ? Infinity : err);
    maxRelError = Math.max(maxRelError, Number.isNaN(err) ? Infinity : err / Math.max(Math.abs(w), 1e-30));
  }
  return { maxAbsError, maxRelError, pass };
}

/** One example's run: what it computed and how close it came to the reference. */
export interface ExampleResult extends Comparison {
  readonly name: string;
  readonly detail: string;
}
