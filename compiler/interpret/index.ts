/**
 * The reference interpreter: the definition of what every Tile IR op means.
 * Imports only compiler/ir; no Node APIs, so it runs in browsers too.
 */
export { type HostTensor, type InterpretOptions, InterpretError, interpret, hostTensor } from './interpreter.js';
export { binary, compare, erf, toDtype, unary } from './scalar-math.js';
