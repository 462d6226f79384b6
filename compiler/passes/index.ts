/** Passes over Tile IR and the manager that runs them. */
export { type Pass, type PassManagerOptions, PassManager } from './pass-manager.js';
export { dce } from './dce.js';
