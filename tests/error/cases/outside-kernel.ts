// Tile operations only exist while a kernel body is traced.
import { arange } from '../../../dsl/index.js';

export const expected = 'tile operations can only be used inside a kernel body while it is traced';
export const build = () => arange(4);
