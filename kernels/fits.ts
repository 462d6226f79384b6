/**
 * Kernels that cover a whole axis with one tile (a row of BLOCK_N, a head of BLOCK_D) would leave the
 * elements past the tile unwritten, and compute on part of the axis, if a tensor were larger: wrong
 * data, which even `tskc run --check` would pass, since the interpreter runs the same program.
 * requireFits makes that launch fail instead: when the extent exceeds the block, it stores at index
 * `extent` along the axis, outside the tensor, and every backend fails the launch with "an unmasked
 * access went outside tensor argument N (name)". When the extent fits, the store's one lane is off
 * and nothing is written.
 */
import { type TensorArg, type Tile, type TileLike, store } from '../dsl/index.js';

/**
 * Fails the launch unless `extent` <= `block`: `at(extent)` is the full index of `out` with `extent`
 * placed on the axis in question (any valid indices on the other axes).
 */
export function requireFits(out: TensorArg, extent: Tile, block: number, at: (onAxis: Tile) => readonly TileLike[]): void {
  store(out, at(extent), 0, { mask: extent.gt(block) });
}
