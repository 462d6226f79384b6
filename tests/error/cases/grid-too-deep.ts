// A grid extent nested 65 operations deep.
import type { GridExpr } from '../../../compiler/ir/ir.js';
import { kernel } from '../../../dsl/index.js';

let deep: GridExpr = 'N';
for (let i = 0; i < 65; i++) deep = { op: 'max', args: [deep, 1] };
export const expected = 'grid extent nests more than 64 operations deep';
export const build = () => kernel('k', {}, () => undefined, { grid: () => [deep] }).build();
