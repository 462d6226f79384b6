// Reducing axis 1 of a rank-1 tile.
import { arange, kernel } from '../../../dsl/index.js';

export const expected = 'reduce(tile<i32>[8]): axis 1 is out of range for a rank-1 tile';
export const build = () => kernel('k', {}, () => void arange(8).sum(1), { grid: () => [1] }).build();
