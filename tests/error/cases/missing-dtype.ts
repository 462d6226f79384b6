// A dtype that is not one (an import that does not exist is undefined).
import { input, kernel } from '../../../dsl/index.js';

export const expected = 'tensor: expected a dtype (f32, u4, f8e4m3, ... or dtype(\'name\')), got undefined';
export const build = () => kernel('k', { x: input(undefined as never, ['N']) }, () => undefined, { grid: () => [1] }).build();
