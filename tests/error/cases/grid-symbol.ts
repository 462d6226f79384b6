// The grid names a symbol that no tensor has.
import { f32, input, kernel } from '../../../dsl/index.js';

export const expected = 'kernel k: the grid names Q, which is no tensor\'s extent';
export const build = () => kernel('k', { x: input(f32, ['N']) }, () => undefined, { grid: (s) => [(s as Record<string, string>)['Q']!] }).build();
