// An attribute that is no integer is named as it is (JSON wrote Infinity and NaN as null).
import { arange, kernel } from '../../../dsl/index.js';

export const expected = 'arange(): attribute end must be an integer, got Infinity';
export const build = () => kernel('k', {}, () => void arange(0, Infinity), { grid: () => [1] }).build();
