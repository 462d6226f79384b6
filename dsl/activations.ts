/**
 * Activations on float tiles, as the library's kernels and the graph API apply them:
 * relu is max(a, 0); gelu the exact form, a/2 · (1 + erf(a/√2)); silu is a · sigmoid(a).
 */
import { erf, sigmoid } from './ops.js';
import type { Tile } from './tile.js';

export const relu = (t: Tile): Tile => t.maximum(0);
export const gelu = (t: Tile): Tile => t.mul(0.5).mul(erf(t.mul(Math.SQRT1_2)).add(1));
export const silu = (t: Tile): Tile => t.mul(sigmoid(t));
