/**
 * The library's kernels by name, as `tskc list`, `tskc run NAME` and the tests that cover every kernel
 * know them. Each kernel is one definition per dtype (and the low-bit ones per code dtype and
 * zero-point choice); listed here are the row kernels in f32 and bf16, and for the low-bit kernels a set
 * that covers each code family (asymmetric unsigned, signed, small float), a width that does not divide
 * 32, each activation dtype, and the tiled weight layout; flash attention; and three linear layers with
 * fused epilogues.
 * The functions in kernels/ make the others.
 */
import { type Dtype, bf16, dtype, f16, f32 } from '../dsl/index.js';
import { flashAttention } from './attention.js';
import { linear } from './linear.js';
import { lowbitGemm } from './lowbit/gemm.js';
import { lowbitGemv } from './lowbit/gemv.js';
import { crossEntropyRows } from './rows/cross-entropy.js';
import { gegluRows, swigluRows } from './rows/glu.js';
import { layerNormRows, rmsNormResidualRows, rmsNormRows } from './rows/norms.js';
import { rotaryRows } from './rows/rotary.js';
import { logSoftmaxRows, softmaxRows } from './rows/softmax.js';

const LOWBIT_VARIANTS: readonly (readonly [Dtype, string, boolean])[] = [
  [f32, 'u4', true],
  [bf16, 'u4', true],
  [f16, 'u3', true],
  [bf16, 'i4', false],
  [bf16, 'f4e2m1', false],
  [bf16, 'f6e3m2', false],
];

/** The row kernels: one program per row by default (or per position and head), the row (or a chunk of it) in registers. */
export const ROW_KERNELS = [softmaxRows, logSoftmaxRows, layerNormRows, rmsNormRows, rmsNormResidualRows, swigluRows, gegluRows, rotaryRows, crossEntropyRows] as const;

const defs = [
  ...ROW_KERNELS.flatMap((make) => [make(f32), make(bf16)]),
  ...LOWBIT_VARIANTS.flatMap(([act, weight, zeros]) => [lowbitGemv(act, dtype(weight), zeros), lowbitGemm(act, dtype(weight), zeros)]),
  // W stored tile by tile (kernels/lowbit/layout.ts).
  lowbitGemv(bf16, dtype('u4'), true, { tile: [16, 128] }),
  // The GEMV's GPU form: a [BN, BK] accumulator summed once, no reduction inside the loop.
  lowbitGemv(bf16, dtype('u4'), true, { accumulate: 'tile' }),
  // The GEMV's CPU form: each step one dot (an f32 FMA per code, vectorized across outputs) from interleaved tiles.
  lowbitGemv(f32, dtype('u4'), true, { tile: [128, 128], accumulate: 'dot' }),
  // Flash attention, head dims up to 64 (BLOCK_D).
  flashAttention(f32, false),
  flashAttention(bf16, false),
  flashAttention(bf16, true),
  // Linear layers with fused epilogues.
  linear(f32, { bias: true, activation: 'relu' }),
  linear(bf16, { bias: true, activation: 'gelu', residual: true }),
  linear(bf16, { activation: 'silu' }),
];

export const libraryKernels: Readonly<Record<string, (typeof defs)[number]>> = Object.freeze(Object.fromEntries(defs.map((d) => [d.name, d])));
