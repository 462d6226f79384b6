// The two branches of an if yield different types.
import { arange, f32, ifElse, kernel, programId } from '../../../dsl/index.js';

export const expected = "if: the else region's yielded values (tile<f32>[4]) must match (tile<i32>[4])";
export const build = () =>
  kernel('k', {}, () => void ifElse(programId(0).eq(0), () => [arange(4)], () => [arange(4).to(f32)]), { grid: () => [1] }).build();
