// A loop whose step is a constant 0: it could only fail at launch.
import { forRange, kernel } from '../../../dsl/index.js';

export const expected = 'forRange: the step must be positive, got 0';
export const build = () => kernel('k', {}, () => void forRange(0, 4, 0, [], () => []), { grid: () => [1] }).build();
