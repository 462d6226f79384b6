/** The WGSL backend: Tile IR to WGSL for WebGPU (SIMT, sharing the thread layout of simt/). */
export { type WgslEmitOptions, type WgslSource, WGSL_ENTRY, chooseThreads, emitWgsl } from './emit.js';
