// A requirement names a symbol that no tensor has.
import { atMost, f32, input, kernel } from '../../../dsl/index.js';

export const expected = 'kernel k: a requirement names Q, which is no tensor\'s extent';
export const build = () => kernel('k', { x: input(f32, ['N']) }, () => undefined, { grid: () => [1], requires: (s) => [atMost((s as Record<string, string>)['Q']!, 4)] }).build();
