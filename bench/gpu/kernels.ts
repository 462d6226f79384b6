/**
 * The copy kernel the GPU benchmarks measure bandwidth with, written in the DSL like any user kernel,
 * and a row copy shaped like the library's row kernels (kernels/rows/: one program per row, the row in
 * one tile) without their arithmetic, which tells the cost of the rows' loads and stores from the cost
 * of their reductions.
 */
import { type Dtype, arange, cdiv, f32, input, kernel, load, output, programId, store } from '../../dsl/index.js';

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

export const rowCopy = (d: Dtype) =>
  kernel(
    `row_copy_${d.name}`,
    { x: input(d, ['M', 'N']), y: output(d, ['M', 'N']) },
    ({ x, y }, { BLOCK_N }) => {
      const [row, cols] = [programId(0), arange(BLOCK_N)];
      const ok = cols.lt(x.dim(1));
      store(y, [row, cols], load(x, [row, cols], { mask: ok }), { mask: ok });
    },
    { params: { BLOCK_N: 8192 }, grid: ({ M }) => [M], shapes: { M: 4096, N: 8192 } },
  );
