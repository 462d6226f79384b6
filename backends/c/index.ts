/** The portable C backend: Tile IR to one C11 translation unit per kernel. Imports compiler/ only. */
export { type CKernel, emitC } from './emit.js';
