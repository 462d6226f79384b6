// A shared tile of 64x64 whose swizzled layout covers 64x32.
import { ComposedLayout, Swizzle, parseLayout } from '../../../compiler/layout/index.js';
import { f16, kernel, sharedTile } from '../../../dsl/index.js';

export const expected = 'alloc_shared: layout cute(Sw<3,3,3> o 0 o (64,32):(32,1)) does not fit shared<f16>[64, 64]';
export const build = () =>
  kernel('k', {}, () => void sharedTile([64, 64], f16, { layout: new ComposedLayout(new Swizzle(3, 3, 3), parseLayout('(64,32):(32,1)')) }), { grid: () => [1] }).build();
