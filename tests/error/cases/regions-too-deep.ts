// Loop bodies nested 65 deep: past MAX_NESTING, which keeps the passes that recurse into regions off the stack's end.
import { forRange, kernel } from '../../../dsl/index.js';

const nest = (depth: number): void => {
  if (depth > 0) forRange(0, 1, 1, [], () => (nest(depth - 1), []));
};
export const expected = 'loop and branch bodies nest more than 64 deep';
export const build = () => kernel('k', {}, () => nest(65), { grid: () => [1] }).build();
