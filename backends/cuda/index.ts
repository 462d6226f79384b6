/** The CUDA backend: Tile IR to CUDA C for NVRTC (SIMT). Imports compiler/ and the C backend's value rules. */
export { type CudaEmitOptions, type CudaSource, ENTRY, emitCuda, explainCuda } from './emit.js';
export { type Distribution, distribute } from '../simt/distribution.js';
export { chooseThreads } from '../simt/threads.js';
