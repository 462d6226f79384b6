// 300 is not an i8.
import { arange, i8, kernel } from '../../../dsl/index.js';

export const expected = 'const(): 300 does not fit in i8';
export const build = () => kernel('k', {}, () => void arange(4).to(i8).add(300), { grid: () => [1] }).build();
