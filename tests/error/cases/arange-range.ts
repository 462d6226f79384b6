// An arange past the range of i32.
import { arange, kernel } from '../../../dsl/index.js';

export const expected = 'arange(): the range [2147483646, 2147483650) must fit in i32';
export const build = () => kernel('k', {}, () => void arange(2147483646, 2147483650), { grid: () => [1] }).build();
