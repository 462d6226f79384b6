// y is declared output(...): the kernel may only write it.
import { arange, f32, kernel, load, output } from '../../../dsl/index.js';

export const expected = 'load(global<f32>[N], tile<i32>[4]): cannot load from an output tensor (declare it inout)';
export const build = () => kernel('k', { y: output(f32, ['N']) }, ({ y }) => void load(y, [arange(4)]), { grid: () => [1] }).build();
