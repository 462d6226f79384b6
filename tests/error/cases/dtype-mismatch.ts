// Adding an f32 tile and an i32 tile: dtypes never change implicitly.
import { arange, f32, input, kernel, load } from '../../../dsl/index.js';

export const expected = 'add(tile<f32>[16], tile<i32>[16]): operands must have the same dtype (cast one of them)';
export const build = () =>
  kernel('k', { x: input(f32, [16]) }, ({ x }) => {
    load(x, [arange(16)]).add(arange(16));
  }, { grid: () => [1] }).build();
