// Reinterpreting 32 bits as 16.
import { arange, f16, kernel } from '../../../dsl/index.js';

export const expected = 'bitcast(tile<i32>[4]): cannot reinterpret 32-bit i32 as 16-bit f16';
export const build = () => kernel('k', {}, () => void arange(4).bitcast(f16), { grid: () => [1] }).build();
