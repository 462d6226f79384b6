// A mask of 8 lanes for a load of 16.
import { arange, f32, input, kernel, load } from '../../../dsl/index.js';

export const expected = 'load: shapes [16] and [8] do not broadcast (extents 16 and 8)';
export const build = () =>
  kernel('k', { x: input(f32, ['N']) }, ({ x }) => void load(x, [arange(16)], { mask: arange(8).lt(4) }), { grid: () => [1] }).build();
