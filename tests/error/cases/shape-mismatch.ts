// Tiles of 16 and 8 elements do not broadcast.
import { arange, kernel } from '../../../dsl/index.js';

export const expected = 'add: shapes [16] and [8] do not broadcast (extents 16 and 8)';
export const build = () => kernel('k', {}, () => void arange(16).add(arange(8)), { grid: () => [1] }).build();
