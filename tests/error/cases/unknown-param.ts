// Building with a parameter the kernel does not have.
import { kernel } from '../../../dsl/index.js';

export const expected = 'kernel k has no parameter BLOCK_M (it has: BLOCK)';
export const build = () => kernel('k', {}, () => undefined, { params: { BLOCK: 64 }, grid: () => [1] }).build({ BLOCK_M: 32 } as never);
