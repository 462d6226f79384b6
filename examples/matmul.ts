/**
 * C = A @ B with 64x64 output tiles: each block walks K in steps of 32, carrying its f32 accumulator
 * through the loop; loads and the store are masked at the ragged edges.
 */
import { arange, cdiv, dot, f32, forRange, input, kernel, load, output, programId, store, zeros } from '../dsl/index.js';
import { interpret } from '../compiler/interpret/index.js';
import { type ExampleResult, compare, poisoned, randInt, randomTensor, rng } from './check.js';

export const matmul = kernel(
  'matmul',
  { a: input(f32, ['M', 'K']), b: input(f32, ['K', 'N']), c: output(f32, ['M', 'N']) },
  ({ a, b, c }, { BM, BN, BK }) => {
    const [m, k, n] = [a.dim(0), a.dim(1), b.dim(1)];
    const rows = programId(0).mul(BM).add(arange(BM)).expandDims(1); // [BM, 1]
    const cols = programId(1).mul(BN).add(arange(BN)).expandDims(0); // [1, BN]
    const [acc] = forRange(0, k, BK, [zeros([BM, BN], f32)], (k0, [sum]) => {
      const ks = k0.add(arange(BK));
      const aTile = load(a, [rows, ks.expandDims(0)], { mask: rows.lt(m).and(ks.lt(k).expandDims(0)) });
      const bTile = load(b, [ks.expandDims(1), cols], { mask: ks.lt(k).expandDims(1).and(cols.lt(n)) });
      return [dot(aTile, bTile, sum!)];
    });
    store(c, [rows, cols], acc!, { mask: rows.lt(m).and(cols.lt(n)) });
  },
  {
    params: { BM: 64, BN: 64, BK: 32 },
    grid: ({ M, N }, { BM, BN }) => [cdiv(M, BM), cdiv(N, BN)],
    shapes: { M: 300, K: 200, N: 250 },
    flops: ({ M, K, N }) => 2 * M * K * N,
  },
);

export function matmulReference(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let kk = 0; kk < k; kk++) s += a[i * k + kk]! * b[kk * n + j]!;
    out[i * n + j] = s;
  }
  return out;
}

export function runMatmul(seed: number): ExampleResult {
  const r = rng(seed);
  const [m, k, n] = [randInt(r, 1, 80), randInt(r, 1, 80), randInt(r, 1, 80)];
  const [a, b, c] = [randomTensor(r, [m, k]), randomTensor(r, [k, n]), poisoned([m, n])];
  interpret(matmul.build(), { a, b, c });
  // The accumulator is rounded to f32 once per K step: about ceil(K/32) roundings of a sum <= K.
  return { name: 'matmul', detail: `M=${m} K=${k} N=${n}`, ...compare(c.data, matmulReference(a.data, b.data, m, k, n), 1e-5, 1e-5 * k) };
}
