// A register layout for 8 elements on a tile of 16.
import { spatial } from '../../../compiler/layout/index.js';
import { arange, f32, input, kernel, load } from '../../../dsl/index.js';

export const expected = 'load: layout reg([8], [8], [0], []) does not fit tile<f32>[16]';
export const build = () =>
  kernel('k', { x: input(f32, [16]) }, ({ x }) => void load(x, [arange(16)], { layout: spatial(8) }), { grid: () => [1] }).build();
