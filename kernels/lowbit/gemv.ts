/**
 * Weight-only low-bit GEMV (and GEMM as one GEMV per row of x): y[M, N] = x[M, K] · Wᵀ, where W[N, K]
 * is stored as codes of a narrow dtype with one f32 scale (and for asymmetric codes one f32 zero point)
 * per group of GROUP elements along K, as kernels/lowbit/quantize.ts makes them:
 *
 *   y[m, n] = sum over groups g of scale[n, g] * (sum over k in g of x[m, k] * code[n, k] - zero[n, g] * sum over k in g of x[m, k])
 *
 * One program computes BN outputs of one row of x, walking K in steps of BK (which divides GROUP, so a
 * step lies in one group and its scale multiplies the step's partial sum once; the tile accumulator's
 * steps may instead span whole groups). The codes are
 * unpacked in registers (the load converts them); nothing but x, the codes, the scales and the zero
 * points is read. Taking z·Σx off Σx·c once per step saves a subtraction per code, at a price in
 * accuracy when the terms cancel (x of one sign, codes near the zero point): the error is relative
 * to Σ|x·c| rather than to Σ|x·(c − z)|, about 16x larger in a u8 simulation with x in [0, 1].
 * Each step's sum follows the interpreter's 16-lane rule; the running total is f32. x may be f32, f16
 * or bf16, and y has x's dtype. W is row-major [N, K], or with the `tile` option stored tile by tile
 * (kernels/lowbit/layout.ts), so that each step reads one contiguous tile; the `accumulate: 'dot'` form
 * takes each step as a dot (one f32 fused multiply-add per code), from interleaved or column-major
 * tiles, with the scales and zero points group-major.
 */
import { type Dtype, type Tile, arange, cdiv, dot, equal, f32, forRange, gridMul, input, kernel, load, output, programId, store, zeros } from '../../dsl/index.js';
import { IrError, describeValue } from '../../compiler/ir/errors.js';
import { codesPerWord, dotTileOrder, tileDims } from './layout.js';

export interface LowbitGemvParams extends Record<string, number> {
  /** Outputs per program. */
  readonly BN: number;
  /** K elements per step; must divide GROUP (or, with `accumulate: 'tile'`, may be a multiple of it). */
  readonly BK: number;
  /** K elements per scale. */
  readonly GROUP: number;
}

export interface LowbitGemvOptions {
  /**
   * W stored tile by tile (kernels/lowbit/layout.ts: tileCodes) as a [NB, KB, BN, BK] tensor (in the
   * 'dot' form's tiles, see `accumulate`), for tiles of BN x BK: each step reads one contiguous tile.
   * The params BN and BK must be the tile, and NB = ceil(N / BN), KB = K / BK (other counts fail the
   * launch, naming them).
   */
  readonly tile?: readonly [number, number];
  /**
   * Where products are summed. 'step' (the default): each step's [BN, BK] products are summed to [BN]
   * (the 16-lane rule), then scaled. 'tile': a [BN, BK] f32 accumulator takes each step's scaled
   * products, (c − z)·x·s, and is summed to [BN] once after the walk, so the loop has no reduction
   * across lanes (on a GPU: no shuffles and no barriers in it). x, the scales and the zero points are
   * read straight into the tile's shape (each lane reads its own row's or column's value) instead of
   * being broadcast from smaller tiles; so BK may span several groups (a multiple of GROUP), which on a
   * GPU puts more of W in flight a step (at BK = GROUP = 128, BN 8 on 128 threads, a thread loads 4
   * bytes of u4 codes a step, and the H200's u4 GEMV took 0.111 ms against the 9 us its bytes need
   * at copy bandwidth). Meant for GPUs: the C backend runs it about 10x slower than
   * 'step' (it reads those tiles lane by lane). 'dot': each step is a dot, x[1, BK] · codes[BK, BN],
   * one f32 fused multiply-add per code in k order (the interpreter's dot), which a CPU vectorizes
   * across the BN outputs. It needs `tile`, the tiles in dotTileOrder(weight) (tileCodes(q, tile,
   * dotTileOrder(weight))): interleaved for widths under 8 bits that divide 32 (u1, u2, u4, i1, i2,
   * i4, and the 4- and 2-bit floats such as f4e2m1: W is
   * [NB, KB, BK / P, BN, P], P = 32 / bits), column by column otherwise (W is [NB, KB, BK, BN]); and the
   * scales and zero points group-major, [G, N] (groupMajorScales(q)), so that each step reads its BN
   * scales as one run. The CPU's fastest form (about 5x 'step' on the u4 GEMV here, 128 x 128 tiles).
   */
  readonly accumulate?: 'step' | 'tile' | 'dot';
}

/** The kernel for activations of dtype `act` and codes of dtype `weight`, with zero points or without. */
export function lowbitGemv(act: Dtype, weight: Dtype, withZeros: boolean, options: LowbitGemvOptions = {}) {
  const { tile, accumulate = 'step' } = options;
  if (!['step', 'tile', 'dot'].includes(accumulate)) throw new IrError('type', `lowbit gemv: accumulate must be 'step', 'tile' or 'dot', got ${describeValue(accumulate)}`);
  if (accumulate === 'dot' && !tile) throw new IrError('type', "lowbit gemv: accumulate 'dot' reads W in tiles (dotTileOrder); give the tile option");
  // The 'dot' form's tiles: interleaved words of P codes where the width is under 8 bits and divides 32 (kernels/lowbit/layout.ts), else column-major.
  const p = accumulate === 'dot' ? codesPerWord(weight) : undefined;
  if (tile && p && tile[1] % p !== 0) throw new IrError('type', `lowbit gemv: an interleaved tile's BK = ${tile[1]} must be whole words of ${p} ${weight.name} codes`);
  const args = {
    x: input(act, ['M', 'K']),
    w: input(weight, tile ? ['NB', 'KB', ...tileDims(tile, accumulate === 'dot' ? dotTileOrder(weight) : 'rows', weight)] : ['N', 'K']),
    // The 'dot' form reads each step's BN scales as one contiguous run: group-major, [G, N].
    scales: input(f32, accumulate === 'dot' ? ['G', 'N'] : ['N', 'G']),
    zeros: input(f32, accumulate === 'dot' ? ['G', 'N'] : ['N', 'G']),
    y: output(act, ['M', 'N']),
  };
  return kernel(
    `gemv_${act.name}_${weight.name}${withZeros ? '_zp' : ''}${tile ? `_tiled${tile[0]}x${tile[1]}` : ''}${accumulate === 'step' ? '' : accumulate === 'tile' ? '_tileacc' : '_dot'}`,
    withZeros ? args : { x: args.x, w: args.w, scales: args.scales, y: args.y },
    (a, { BN, BK, GROUP }) => {
      // A step within one group has one scale a row; the tile accumulator reads a scale a lane, so its
      // steps may also span whole groups (on a GPU, more bytes in flight a step: see `accumulate`).
      if (!Number.isInteger(GROUP) || GROUP < 1) throw new IrError('type', `lowbit gemv: GROUP (K elements per scale) must be a positive integer, got ${describeValue(GROUP)}`);
      const spansGroups = accumulate === 'tile' && BK % GROUP === 0 && BK > GROUP;
      if (GROUP % BK !== 0 && !spansGroups) throw new IrError('type', `lowbit gemv: BK = ${BK} must divide GROUP = ${GROUP}${accumulate === 'tile' ? ' or be a multiple of it' : ''}`);
      if (tile && (tile[0] !== BN || tile[1] !== BK)) throw new IrError('type', `lowbit gemv: the weights are stored in ${tile[0]} x ${tile[1]} tiles, but BN x BK = ${BN} x ${BK}`);
      const { x, w, scales, y } = a;
      const [k, n] = [x.dim(1), y.dim(1)];
      const m = programId(0);
      const rows = programId(1).mul(BN).add(arange(BN)); // [BN]
      const rowOk = rows.lt(n);
      const codesOf = (k0: Tile, cols: Tile, colOk: Tile) =>
        (tile
          ? load(w, [programId(1), k0.div(BK), arange(BN).expandDims(1), arange(BK).expandDims(0)]) // one contiguous tile
          : load(w, [rows.expandDims(1), cols.expandDims(0)], { mask: rowOk.expandDims(1).and(colOk.expandDims(0)) })
        ).to(f32); // [BN, BK]
      // A step's partial sums x·c of group `group` scaled into the running sum; the zero point comes off
      // once per step: sum x (c - z) = sum x c - z sum x.
      const addStep = (sum: Tile, partial: Tile, xs: Tile, group: Tile) => {
        const at = accumulate === 'dot' ? [group, rows] : [rows, group];
        const centred = 'zeros' in a ? partial.sub(load(a.zeros as typeof scales, at, { mask: rowOk }).mul(xs.sum(0, { keepDims: true }))) : partial;
        return sum.add(centred.mul(load(scales, at, { mask: rowOk })));
      };
      if (accumulate === 'dot') {
        const [acc] = forRange(0, k, BK, [zeros([BN], f32)], (k0, [sum]) => {
          const cols = k0.add(arange(BK)); // [BK]
          const group = k0.div(GROUP);
          const xs = load(x, [m, cols], { mask: cols.lt(k) }).to(f32);
          // Row q of the [BK, BN] codes is the BN codes of column k0 + q (rows past N are zero codes). In
          // interleaved tiles they are the [BK / P, P, BN] tile w[.., q / P, n, q mod P], merged.
          const codes = p
            ? load(w, [programId(1), k0.div(BK), arange(BK / p).reshape([BK / p, 1, 1]), arange(BN).reshape([1, 1, BN]), arange(p).reshape([1, p, 1])]).to(f32).reshape([BK, BN])
            : load(w, [programId(1), k0.div(BK), arange(BK).expandDims(1), arange(BN).expandDims(0)]).to(f32); // [BK, BN]
          return [addStep(sum!, dot(xs.expandDims(0), codes, zeros([1, BN], f32)).reshape([BN]), xs, group)];
        });
        store(y, [m, rows], acc!.to(act), { mask: rowOk });
        return;
      }
      if (accumulate === 'tile') {
        const [acc] = forRange(0, k, BK, [zeros([BN, BK], f32)], (k0, [sum]) => {
          const cols = k0.add(arange(BK)); // [BK]
          const colOk = cols.lt(k);
          const ok = rowOk.expandDims(1).and(colOk.expandDims(0)); // [BN, BK]
          // Index tiles of the whole [BN, BK] shape: a row's index along the columns, a column's down the rows.
          const rowIndex = rows.expandDims(1).broadcastTo([BN, BK]);
          const colIndex = cols.expandDims(0).broadcastTo([BN, BK]);
          const group = spansGroups ? colIndex.div(GROUP) : k0.div(GROUP);
          const xs = load(x, [m, colIndex], { mask: ok }).to(f32);
          const scale = load(scales, [rowIndex, group], { mask: ok });
          const c = codesOf(k0, cols, colOk);
          const centred = 'zeros' in a ? c.sub(load(a.zeros as typeof scales, [rowIndex, group], { mask: ok })) : c;
          return [sum!.add(centred.mul(xs).mul(scale))];
        });
        store(y, [m, rows], acc!.sum(1).to(act), { mask: rowOk });
        return;
      }
      const [acc] = forRange(0, k, BK, [zeros([BN], f32)], (k0, [sum]) => {
        const cols = k0.add(arange(BK)); // [BK]
        const colOk = cols.lt(k);
        const group = k0.div(GROUP);
        const xs = load(x, [m, cols], { mask: colOk }).to(f32);
        const codes = codesOf(k0, cols, colOk);
        return [addStep(sum!, codes.mul(xs.expandDims(0)).sum(1), xs, group)]; // [BN]
      });
      store(y, [m, rows], acc!.to(act), { mask: rowOk });
    },
    {
      params: { BN: tile?.[0] ?? 16, BK: tile?.[1] ?? 128, GROUP: 128 } as LowbitGemvParams,
      grid: ({ M, N }, { BN }) => [M, cdiv(N, BN)],
      // A scale (and zero point) per GROUP elements of K, and W's tiles covering N and K.
      requires: (s, { BN, BK, GROUP }) => [equal(s.K, gridMul(s.G, GROUP)), ...(tile ? [equal(s.NB, cdiv(s.N, BN)), equal(s.K, gridMul(s.KB, BK))] : [])],
      shapes: { M: 1, N: 8192, K: 8192, G: 64, ...(tile ? { NB: Math.ceil(8192 / tile[0]), KB: 8192 / tile[1] } : {}) },
      flops: ({ M, N, K }) => 2 * M * N * K,
    },
  );
}
