/** The WGSL backend: Tile IR to WGSL for WebGPU (SIMT, sharing the thread layout of simt/). */
export { type WgslEmitOptions, type WgslSource, WGSL_ENTRY, emitWgsl } from './emit.js';
export { chooseThreads } from '../simt/threads.js';
