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
 * `accumulate: 'dot'` for codes that straddle words or have 8 bits).
 *
 * Interleaved tiles (the 'dot' GEMV's for the others), for codes of B < 8 bits where B divides 32
 * (P = 32 / B codes to a word), put the P
 * codes of one output and P consecutive k in one word, and the words of the BN outputs side by side:
 *
 *   BN x BK : (P, (1, P·BN)) with BK split as (P, BK / P),
 *
 * the order of a [NB, KB, BK / P, BN, P] tensor. Each lane of a vector then owns one output's word and
 * gets row k's code with one shift by B·(k mod P) and one lookup: no permutation of words across lanes
 * (what Marlin and QUICK do for a GPU's threads, done here for a CPU's vector lanes).
 */
import { Layout, blockedProduct } from '../../compiler/layout/index.js';
import type { Dtype } from '../../compiler/ir/dtype.js';
import { describeValue } from '../../compiler/ir/errors.js';
import { QuantizeError, type QuantizedWeight, codeValues } from './quantize.js';

/**
 * The order of the codes inside a tile: row by row (BN x BK : (BK, 1)), column by column (: (1, BN)),
 * or column by column in words of P = 32 / B codes, the words of each column group interleaved across
 * the outputs (: (P, (1, P·BN))).
 */
export type TileOrder = 'rows' | 'columns' | 'interleaved';

function checkOrder(order: TileOrder): void {
  if (order !== 'rows' && order !== 'columns' && order !== 'interleaved') throw new QuantizeError(`tile order ${describeValue(order)}: choose 'rows', 'columns' or 'interleaved'`);
}

/** Codes to a word in interleaved tiles of dtype d: 32 / bits, for widths under 8 bits that divide 32. */
export function codesPerWord(d: Dtype): number | undefined {
  return d.bits < 8 && 32 % d.bits === 0 ? 32 / d.bits : undefined;
}

/** The tile order of the GEMV's `accumulate: 'dot'` for codes of dtype d: interleaved where the width is under 8 bits and divides 32, else columns. */
export function dotTileOrder(d: Dtype): TileOrder {
  return codesPerWord(d) ? 'interleaved' : 'columns';
}

/**
 * The dims of one tile of bn x bk in the tensor the kernels index, after [NB, KB]: [BN, BK] row by row,
 * [BK, BN] column by column, [BK / P, BN, P] interleaved (codes of dtype d).
 */
export function tileDims([bn, bk]: readonly [number, number], order: TileOrder, d: Dtype): number[] {
  checkOrder(order);
  if (order === 'rows') return [bn, bk];
  if (order === 'columns') return [bk, bn];
  const p = codesPerWord(d)!;
  return [bk / p, bn, p];
}

/** The tile itself, bn x bk, in `order`. */
function tileLayout(bn: number, bk: number, order: TileOrder, d: Dtype | undefined): Layout {
  checkOrder(order);
  if (order === 'rows') return new Layout([bn, bk], [bk, 1]);
  if (order === 'columns') return new Layout([bn, bk], [1, bn]);
  const p = d && codesPerWord(d);
  if (!p) throw new QuantizeError(`interleaved tiles hold codes whose width divides 32 and is under 8 bits${d ? `, not ${d.name}` : ': give the dtype'}`);
  if (bk % p !== 0) throw new QuantizeError(`an interleaved tile's ${bk} columns must be whole words of ${p} ${d.name} codes`);
  return new Layout([bn, [p, bk / p]], [p, [1, p * bn]]);
}

/**
 * The tile-major layout of W[n, k] for tiles of bn x bk (k a multiple of bk; the last tile row may be
 * partly past n); interleaved tiles need the codes' dtype `d`.
 */
export function tiledWeightLayout(n: number, k: number, [bn, bk]: readonly [number, number], order: TileOrder = 'rows', d?: Dtype): Layout {
  if (!Number.isInteger(bn) || !Number.isInteger(bk) || bn < 1 || bk < 1) throw new QuantizeError(`a weight tile is two positive integers, not ${bn} x ${bk}`);
  if (k % bk !== 0) throw new QuantizeError(`the tile's ${bk} columns must divide K = ${k}`);
  const [nb, kb] = [Math.ceil(n / bn), k / bk];
  return blockedProduct(tileLayout(bn, bk, order, d), new Layout([nb, kb], [kb, 1]));
}

export interface TiledCodes {
  /** The shape of the tensor the kernels take: [NB, KB, BN, BK]; [NB, KB, BK, BN] for column-major tiles; [NB, KB, BK / P, BN, P] for interleaved ones. */
  readonly shape: readonly number[];
  /** The code values in that tensor's order; the rows past n (padding the last tile row) are 0. */
  readonly values: Float64Array;
  readonly layout: Layout;
}

/** q's codes reordered tile by tile, for the kernels' `tile` option (for `accumulate: 'dot'`, in dotTileOrder(q.dtype)). */
export function tileCodes(q: QuantizedWeight, tile: readonly [number, number], order: TileOrder = 'rows'): TiledCodes {
  const layout = tiledWeightLayout(q.n, q.k, tile, order, q.dtype);
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
  return { shape: [nb, kb, ...tileDims(tile, order, q.dtype)], values, layout };
}

export interface GroupMajorScales {
  /** [G, N]: G = K / group. */
  readonly shape: readonly [number, number];
  readonly scales: Float64Array;
  /** Undefined where q has no zero points. */
  readonly zeros: Float64Array | undefined;
  /** N x G : (1, N), the transposition that places them. */
  readonly layout: Layout;
}

/**
 * q's scales (and zero points) group-major, for the GEMV's `accumulate: 'dot'`: each step reads the
 * BN scales of one group, which [N, G] keeps G apart (a cache line per output, a quarter of the u4
 * GEMV's time here) and [G, N] keeps in one contiguous run.
 */
export function groupMajorScales(q: QuantizedWeight): GroupMajorScales {
  const g = q.k / q.group;
  const layout = new Layout([q.n, g], [1, q.n]);
  const place = (rowMajor: Float64Array) => {
    const out = new Float64Array(rowMajor.length);
    for (let r = 0; r < q.n; r++) for (let c = 0; c < g; c++) out[layout.at([r, c])] = rowMajor[r * g + c]!;
    return out;
  };
  return { shape: [g, q.n], scales: place(q.scales), zeros: q.zeros && place(q.zeros), layout };
}
