/** z = x + y, one block per 1024 elements; the tail block masks off the elements past N. */
import { arange, cdiv, f32, input, kernel, load, output, programId, store } from '../dsl/index.js';
import { interpret } from '../compiler/interpret/index.js';
import { type ExampleResult, compare, poisoned, randInt, randomTensor, rng } from './check.js';

export const vectorAdd = kernel(
  'vector_add',
  { x: input(f32, ['N']), y: input(f32, ['N']), z: output(f32, ['N']) },
  ({ x, y, z }, { BLOCK }) => {
    const offsets = programId(0).mul(BLOCK).add(arange(BLOCK));
    const inside = offsets.lt(x.dim(0));
    const sum = load(x, [offsets], { mask: inside }).add(load(y, [offsets], { mask: inside }));
    store(z, [offsets], sum, { mask: inside });
  },
  { params: { BLOCK: 1024 }, grid: ({ N }, { BLOCK }) => [cdiv(N, BLOCK)], shapes: { N: 1_000_000 }, flops: ({ N }) => N },
);

export function runVectorAdd(seed: number): ExampleResult {
  const r = rng(seed);
  const n = randInt(r, 1, 5000);
  const [x, y, z] = [randomTensor(r, [n]), randomTensor(r, [n]), poisoned([n])];
  interpret(vectorAdd.build(), { x, y, z });
  const want = x.data.map((v, i) => v + y.data[i]!);
  // One f32 rounding of the exact sum: half an ulp.
  return { name: 'vector_add', detail: `N=${n}`, ...compare(z.data, want, 2 ** -24, 0) };
}
