// x is declared input(...): the kernel may only read it.
import { arange, f32, input, kernel, store } from '../../../dsl/index.js';

export const expected = 'store(global<f32>[N], tile<i32>[4], tile<f32>[4]): cannot store into an input tensor (declare it out or inout)';
export const build = () => kernel('k', { x: input(f32, ['N']) }, ({ x }) => store(x, [arange(4)], 0), { grid: () => [1] }).build();
