// exp of an integer tile.
import { arange, exp, kernel } from '../../../dsl/index.js';

export const expected = 'exp(tile<i32>[4]): needs a float operand, got i32';
export const build = () => kernel('k', {}, () => void exp(arange(4)), { grid: () => [1] }).build();
