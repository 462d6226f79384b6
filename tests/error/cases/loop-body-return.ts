// A loop body that forgets to return the carried tiles.
import { arange, forRange, kernel } from '../../../dsl/index.js';

export const expected = 'forRange: the body must return an array of tiles (the values it carries or yields), got undefined';
export const build = () =>
  kernel('k', {}, () => void forRange(0, 4, 1, [arange(4)], (() => undefined) as never), { grid: () => [1] }).build();
