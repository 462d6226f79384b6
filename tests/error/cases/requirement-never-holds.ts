// A requirement on the params alone that is false: caught when the kernel is built, not at every launch.
import { atMost, f32, input, kernel } from '../../../dsl/index.js';

export const expected = 'kernel k: requirement 128 <= 64 never holds';
export const build = () => kernel('k', { x: input(f32, ['N']) }, () => undefined, { params: { BK: 128, GROUP: 64 }, grid: () => [1], requires: (_, { BK, GROUP }) => [atMost(BK, GROUP)] }).build();
