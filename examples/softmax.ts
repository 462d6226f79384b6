/**
 * Row softmax: one block per row; columns past N are loaded as -inf so they add nothing. A row longer
 * than the block would be half computed: the kernel requires N <= BLOCK_N, and a launch with a longer
 * one fails saying so.
 */
import { arange, atMost, exp, f32, input, kernel, load, output, programId, store } from '../dsl/index.js';
import { interpret } from '../compiler/interpret/index.js';
import { type ExampleResult, compare, poisoned, randInt, randomTensor, rng } from './check.js';

export const softmax = kernel(
  'softmax',
  { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) },
  ({ x, y }, { BLOCK_N }) => {
    const row = programId(0);
    const cols = arange(BLOCK_N);
    const n = x.dim(1);
    const ok = cols.lt(n);
    const t = load(x, [row, cols], { mask: ok, other: -Infinity });
    const e = exp(t.sub(t.max(0)));
    store(y, [row, cols], e.div(e.sum(0)), { mask: ok });
  },
  { params: { BLOCK_N: 1024 }, grid: ({ M }) => [M], requires: ({ N }, { BLOCK_N }) => [atMost(N, BLOCK_N)], shapes: { M: 4096, N: 1000 }, flops: ({ M, N }) => 5 * M * N },
);

export function softmaxReference(x: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = x.subarray(i * n, (i + 1) * n);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (out[i * n + j] = v / s));
  }
  return out;
}

export function runSoftmax(seed: number): ExampleResult {
  const r = rng(seed);
  const [m, n] = [randInt(r, 1, 40), randInt(r, 1, 1024)];
  const [x, y] = [randomTensor(r, [m, n], -8, 8), poisoned([m, n])];
  interpret(softmax.build(), { x, y });
  // exp, the sum and the division each round once in f32.
  return { name: 'softmax', detail: `M=${m} N=${n}`, ...compare(y.data, softmaxReference(x.data, m, n), 1e-6, 1e-9) };
}
