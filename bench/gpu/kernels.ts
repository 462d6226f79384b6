/**
 * The copy kernel the GPU benchmarks measure bandwidth with, written in the DSL like any user kernel.
 * The row kernels they time (softmax, norms) are the library's: kernels/rows/.
 */
import { arange, cdiv, f32, input, kernel, load, output, programId, store } from '../../dsl/index.js';

export const copy = kernel(
  'copy',
  { x: input(f32, ['N']), y: output(f32, ['N']) },
  ({ x, y }, { BLOCK }) => {
    const i = programId(0).mul(BLOCK).add(arange(BLOCK));
    const ok = i.lt(x.dim(0));
    store(y, [i], load(x, [i], { mask: ok }), { mask: ok });
  },
  { params: { BLOCK: 4096 }, grid: ({ N }, { BLOCK }) => [cdiv(N, BLOCK)], shapes: { N: 1 << 28 } },
);
