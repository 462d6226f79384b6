// A rank-2 tensor indexed with one index.
import { arange, f32, input, kernel, load } from '../../../dsl/index.js';

export const expected = 'load: tensor x has rank 2 but 1 indices were given';
export const build = () => kernel('k', { x: input(f32, ['M', 'N']) }, ({ x }) => void load(x, [arange(4)]), { grid: () => [1] }).build();
