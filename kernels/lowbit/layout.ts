/**
 * The weight layout of the low-bit kernels, as a layout of the algebra (compiler/layout).
 *
 * Row-major W[N, K] makes a program that computes BN outputs read BN short runs per step, one per
 * row and K codes apart: as many streams as rows, which the CPU's prefetchers do not follow (the u6
 * GEMV ran at half the speed of the same codes stored tile by tile) and which a GPU block cannot load
 * as whole aligned words. Stored tile by tile, each step of a program reads one contiguous BN x BK
 * tile. That order is the blocked product of a row-major tile and a row-major grid of tiles,
 *
 *   blockedProduct(BN x BK : (BK, 1), NB x KB : (KB, 1)) = ((BN, NB), (BK, KB)) : ((BK, KB·BN·BK), (1, BN·BK)),
 *
 * which is the row-major order of a [NB, KB, BN, BK] tensor: the kernels index W as that tensor, and
 * tileCodes() moves the codes there through the layout (the tests check both agree). With the tiles
 * themselves column-major, BN x BK : (1, BN), the order is that of [NB, KB, BK, BN]: each of a tile's
 * BK columns is BN consecutive codes, one per output, which a dot vectorizes across (the GEMV's
 * `accumulate: 'dot'`).
 */
import { Layout, blockedProduct } from '../../compiler/layout/index.js';
import { QuantizeError, type QuantizedWeight, codeValues } from './quantize.js';

/** The order of the codes inside a tile: row by row (BN x BK : (BK, 1)) or column by column (: (1, BN)). */
export type TileOrder = 'rows' | 'columns';

/** The tile-major layout of W[n, k] for tiles of bn x bk (k a multiple of bk; the last tile row may be partly past n). */
export function tiledWeightLayout(n: number, k: number, [bn, bk]: readonly [number, number], order: TileOrder = 'rows'): Layout {
  if (!Number.isInteger(bn) || !Number.isInteger(bk) || bn < 1 || bk < 1) throw new QuantizeError(`a weight tile is two positive integers, not ${bn} x ${bk}`);
  if (k % bk !== 0) throw new QuantizeError(`the tile's ${bk} columns must divide K = ${k}`);
  const [nb, kb] = [Math.ceil(n / bn), k / bk];
  const tile = order === 'rows' ? new Layout([bn, bk], [bk, 1]) : new Layout([bn, bk], [1, bn]);
  return blockedProduct(tile, new Layout([nb, kb], [kb, 1]));
}

export interface TiledCodes {
  /** The shape of the tensor the kernels take: [NB, KB, BN, BK], or [NB, KB, BK, BN] for column-major tiles. */
  readonly shape: readonly [number, number, number, number];
  /** The code values in that tensor's order; the rows past n (padding the last tile row) are 0. */
  readonly values: Float64Array;
  readonly layout: Layout;
}

/** q's codes reordered tile by tile, for the kernels' `tile` option (column-major tiles for `accumulate: 'dot'`). */
export function tileCodes(q: QuantizedWeight, tile: readonly [number, number], order: TileOrder = 'rows'): TiledCodes {
  const layout = tiledWeightLayout(q.n, q.k, tile, order);
  const codes = codeValues(q);
  const values = new Float64Array(layout.cosize);
  // A layout's offset is the sum of its modes' offsets: one evaluation per row and per column.
  const [rows, cols] = layout.modes();
  const colOffsets = Array.from({ length: q.k }, (_, c) => cols!.at(c));
  for (let r = 0; r < q.n; r++) {
    const base = rows!.at(r);
    for (let c = 0; c < q.k; c++) values[base + colOffsets[c]!] = codes[r * q.k + c]!;
  }
  const [nb, kb] = [Math.ceil(q.n / tile[0]), q.k / tile[1]];
  return { shape: order === 'rows' ? [nb, kb, tile[0], tile[1]] : [nb, kb, tile[1], tile[0]], values, layout };
}
