/**
 * Weight-only low-bit GEMM: y[M, N] = x[M, K] · Wᵀ for many rows of x, with W[N, K] stored as in
 * kernels/lowbit/gemv.ts (codes of a narrow dtype, one f32 scale and optionally one f32 zero point per
 * group of GROUP elements along K).
 *
 * One program computes a BM x BN tile of y. Each step of BK along K (BK divides GROUP, so the step lies
 * in one group) centres its BN x BK codes once, code - zero, and takes the step's dot of x with them
 * (f32 sums), which one product by the group's scale a column adds into the f32 accumulator:
 *
 *   acc[m, n] += scale[n, g] * sum over k in the step of x[m, k] * (code[n, k] - zero[n, g])
 *
 * The centring is shared by the BM rows of x, which is where a GEMM differs from the GEMV (whose one row
 * gains nothing from it and subtracts the zero point from its sums instead). x may be f32, f16 or bf16,
 * and y has x's dtype. With f16 or bf16 x the centred codes enter the dot in x's dtype, so that on a GPU
 * the dot runs on tensor cores (mma.sync, the accumulator in registers) as the linear layer's does:
 * exact for every code dtype with the zero points kernels/lowbit/quantize.ts makes (integers of at
 * most 8 bits centred by an integer zero point in the codes' range are at most 255 in magnitude; the
 * small floats, whose zero point is 0, all exist in f16 and bf16). Other zero points (fractional, out
 * of the codes' range, or nonzero with float codes) may round there. f32 x takes the same form: one
 * kernel for every dtype, and on tf32 tensor cores (the CUDA tf32 option) the centred codes are exact
 * where dequantized weights would round; on the CPU the step's pass over the accumulator costs 5% at
 * the default 32x32x32 tiles and nothing measurable at 128x128x128 (bench/RESULTS.md, session 24).
 */
import { type Dtype, arange, cdiv, dot, equal, f32, forRange, gridMul, input, kernel, load, output, programId, store, zeros } from '../../dsl/index.js';
import { IrError, describeValue } from '../../compiler/ir/errors.js';

export interface LowbitGemmParams extends Record<string, number> {
  /** Rows of x (and of y) per program. */
  readonly BM: number;
  /** Columns of y (rows of W) per program. */
  readonly BN: number;
  /** K elements per step; must divide GROUP. */
  readonly BK: number;
  /** K elements per scale. */
  readonly GROUP: number;
}

/** The kernel for activations of dtype `act` and codes of dtype `weight`, with zero points or without. */
export function lowbitGemm(act: Dtype, weight: Dtype, withZeros: boolean) {
  const args = {
    x: input(act, ['M', 'K']),
    w: input(weight, ['N', 'K']),
    scales: input(f32, ['N', 'G']),
    zeros: input(f32, ['N', 'G']),
    y: output(act, ['M', 'N']),
  };
  return kernel(
    `gemm_${act.name}_${weight.name}${withZeros ? '_zp' : ''}`,
    withZeros ? args : { x: args.x, w: args.w, scales: args.scales, y: args.y },
    (a, { BM, BN, BK, GROUP }) => {
      if (!Number.isInteger(GROUP) || GROUP < 1) throw new IrError('type', `lowbit gemm: GROUP (K elements per scale) must be a positive integer, got ${describeValue(GROUP)}`);
      if (GROUP % BK !== 0) throw new IrError('type', `lowbit gemm: BK = ${BK} must divide GROUP = ${GROUP}`);
      const { x, w, scales, y } = a;
      const [m, k, n] = [x.dim(0), x.dim(1), w.dim(0)];
      const xRows = programId(0).mul(BM).add(arange(BM)); // [BM]
      const wRows = programId(1).mul(BN).add(arange(BN)); // [BN]
      const [xOk, wOk] = [xRows.lt(m).expandDims(1), wRows.lt(n)];
      const [acc] = forRange(0, k, BK, [zeros([BM, BN], f32)], (k0, [sum]) => {
        const cols = k0.add(arange(BK)); // [BK]
        const colOk = cols.lt(k).expandDims(0);
        const group = k0.div(GROUP);
        const xs = load(x, [xRows.expandDims(1), cols.expandDims(0)], { mask: xOk.and(colOk) }); // [BM, BK], x's dtype
        let codes = load(w, [wRows.expandDims(1), cols.expandDims(0)], { mask: wOk.expandDims(1).and(colOk) }).to(f32); // [BN, BK]
        if ('zeros' in a) codes = codes.sub(load(a.zeros as typeof scales, [wRows, group], { mask: wOk }).expandDims(1));
        const step = dot(xs, codes.to(act).T, zeros([BM, BN], f32)); // [BM, BN]
        return [sum!.add(step.mul(load(scales, [wRows, group], { mask: wOk }).expandDims(0)))];
      });
      store(y, [xRows.expandDims(1), wRows.expandDims(0)], acc!.to(act), { mask: xOk.and(wOk.expandDims(0)) });
    },
    {
      params: { BM: 32, BN: 32, BK: 32, GROUP: 128 } as LowbitGemmParams,
      grid: ({ M, N }, { BM, BN }) => [cdiv(M, BM), cdiv(N, BN)],
      // A scale (and zero point) per GROUP elements of K.
      requires: ({ K, G }, { GROUP }) => [equal(K, gridMul(G, GROUP))],
      shapes: { M: 64, N: 4096, K: 4096, G: 32 },
      flops: ({ M, N, K }) => 2 * M * N * K,
    },
  );
}
