// A tile of more than 2^24 elements: no backend holds one, and the interpreter would run out of memory.
import { arange, kernel } from '../../../dsl/index.js';

export const expected = 'arange(): a tile holds at most 16777216 elements (2^24), [16777217] would hold 16777217';
export const build = () => kernel('k', {}, () => void arange(0, 2 ** 24 + 1), { grid: () => [1] }).build();
