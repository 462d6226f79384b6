// A grid extent divided by a literal 0: every launch would fail.
import { cdiv, f32, input, kernel } from '../../../dsl/index.js';

export const expected = 'cdiv(N, 0) divides by 0';
export const build = () => kernel('k', { x: input(f32, ['N']) }, () => undefined, { grid: ({ N }) => [cdiv(N, 0)] }).build();
