/** Layer norm over rows: y = (x - mean) / sqrt(var + eps) * w + b, one block per row. */
import { arange, atMost, f32, input, kernel, load, output, programId, rsqrt, store, where } from '../dsl/index.js';
import { interpret } from '../compiler/interpret/index.js';
import { type ExampleResult, compare, poisoned, randInt, randomTensor, rng } from './check.js';

export const layerNorm = kernel(
  'layer_norm',
  { x: input(f32, ['M', 'N']), w: input(f32, ['N']), b: input(f32, ['N']), y: output(f32, ['M', 'N']) },
  ({ x, w, b, y }, { BLOCK_N, EPS }) => {
    const row = programId(0);
    const cols = arange(BLOCK_N);
    const n = x.dim(1);
    const ok = cols.lt(n);
    const t = load(x, [row, cols], { mask: ok });
    const count = n.to(f32);
    const mean = t.sum(0).div(count);
    const centered = where(ok, t.sub(mean), 0);
    const variance = centered.mul(centered).sum(0).div(count);
    const normalized = centered.mul(rsqrt(variance.add(EPS)));
    const out = normalized.mul(load(w, [cols], { mask: ok })).add(load(b, [cols], { mask: ok }));
    store(y, [row, cols], out, { mask: ok });
  },
  { params: { BLOCK_N: 1024, EPS: 1e-5 }, grid: ({ M }) => [M], requires: ({ N }, { BLOCK_N }) => [atMost(N, BLOCK_N)], shapes: { M: 4096, N: 1000 }, flops: ({ M, N }) => 8 * M * N },
);

export function layerNormReference(x: Float64Array, w: Float64Array, b: Float64Array, m: number, n: number, eps: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = x.subarray(i * n, (i + 1) * n);
    const mean = row.reduce((a, v) => a + v, 0) / n;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    const rstd = 1 / Math.sqrt(variance + eps);
    row.forEach((v, j) => (out[i * n + j] = (v - mean) * rstd * w[j]! + b[j]!));
  }
  return out;
}

export function runLayerNorm(seed: number): ExampleResult {
  const r = rng(seed);
  const [m, n] = [randInt(r, 1, 40), randInt(r, 2, 1024)];
  const x = randomTensor(r, [m, n], -3, 5);
  const [w, b, y] = [randomTensor(r, [n]), randomTensor(r, [n]), poisoned([m, n])];
  interpret(layerNorm.build(), { x, w, b, y });
  const want = layerNormReference(x.data, w.data, b.data, m, n, 1e-5);
  // A handful of f32 roundings in sequence (mean, variance, rsqrt, two products, a sum).
  return { name: 'layer_norm', detail: `M=${m} N=${n}`, ...compare(y.data, want, 1e-5, 1e-5) };
}
