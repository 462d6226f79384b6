// A parameter named like a property every JavaScript object has: a lookup by name would find the property.
import { kernel } from '../../../dsl/index.js';

export const expected = 'parameter name "constructor" is reserved (every JavaScript object has a property of that name)';
export const build = () => kernel('k', {}, () => undefined, { grid: () => [1], params: { constructor: 1 } }).build();
