/**
 * The library's kernels by name, as `tskc list`, `tskc run NAME` and the tests that cover every kernel
 * know them. The low-bit kernels are one definition per activation dtype, code dtype and zero-point
 * choice; listed here is a set that covers each code family (asymmetric unsigned, signed, small float),
 * a width that does not divide 32, and each activation dtype. `lowbitGemv`/`lowbitGemm` make the others.
 */
import { type Dtype, bf16, dtype, f16, f32 } from '../dsl/index.js';
import { lowbitGemm } from './lowbit/gemm.js';
import { lowbitGemv } from './lowbit/gemv.js';

const LOWBIT_VARIANTS: readonly (readonly [Dtype, string, boolean])[] = [
  [f32, 'u4', true],
  [bf16, 'u4', true],
  [f16, 'u3', true],
  [bf16, 'i4', false],
  [bf16, 'f4e2m1', false],
  [bf16, 'f6e3m2', false],
];

const defs = [
  ...LOWBIT_VARIANTS.flatMap(([act, weight, zeros]) => [lowbitGemv(act, dtype(weight), zeros), lowbitGemm(act, dtype(weight), zeros)]),
  // W stored tile by tile (kernels/lowbit/layout.ts).
  lowbitGemv(bf16, dtype('u4'), true, { tile: [16, 128] }),
];

export const libraryKernels: Readonly<Record<string, (typeof defs)[number]>> = Object.freeze(Object.fromEntries(defs.map((d) => [d.name, d])));
