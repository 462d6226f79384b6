/**
 * Random cases for the low-bit GEMV and GEMM tests: x [m, k] in the activation dtype, W [n, k]
 * quantized to a code dtype with kernels/lowbit/quantize.ts, the kernel's arguments (y poisoned), and
 * the float64 reference with its error bound.
 */
import { type Dtype, bf16, dtype, f16, f32 } from '../../../compiler/ir/dtype.js';
import { hostTensor } from '../../../compiler/interpret/index.js';
import { randInt, rng } from '../../../examples/check.js';
import { codeValues, quantize } from '../../../kernels/lowbit/quantize.js';
import { lowbitMatmulReference } from '../../../kernels/lowbit/reference.js';
import { poisoned } from '../../backends/differential.js';

/** Every code dtype the kernels take. */
export const WEIGHTS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8', 'f8e4m3', 'f8e5m2', 'f6e3m2', 'f6e2m3', 'f5e2m2', 'f4e2m1', 'f3e1m1'].map(dtype);

/** One activation dtype and group per weight dtype, in turn (x and y of 16 bits go two to a WebGPU word). */
export const ACT_GROUPS = [[f32, 32], [f16, 64], [bf16, 128]] as const;

export interface CaseShape {
  /** Inclusive range of the rows of x. */
  readonly m: readonly [number, number];
  /** Inclusive range of the rows of W (ragged against the kernel's tile). */
  readonly n: readonly [number, number];
  /** Inclusive range of the groups along K. */
  readonly groups: readonly [number, number];
}

/** The GEMV's shapes: a few rows of x, N ragged against BN = 16, one to three groups. */
export const GEMV_SHAPE: CaseShape = { m: [1, 3], n: [1, 70], groups: [1, 3] };

/** A random case: symmetric codes when `symmetric` (for unsigned codes: the fixed middle zero point). */
export function makeCase(seed: number, act: Dtype, weight: Dtype, group: number, shape: CaseShape, symmetric = false) {
  const r = rng(seed);
  const [m, n, k] = [randInt(r, ...shape.m), randInt(r, ...shape.n), group * randInt(r, ...shape.groups)];
  const x = hostTensor(act, [m, k], Float64Array.from({ length: m * k }, () => 2 * r() - 1));
  const q = quantize(Float64Array.from({ length: n * k }, () => 2 * r() - 1), [n, k], { dtype: weight, group, symmetric, scaleDtype: act === bf16 ? bf16 : f32 });
  const codes = codeValues(q);
  const args = {
    x,
    w: hostTensor(weight, [n, k], codes),
    scales: hostTensor(f32, [n, k / group], q.scales),
    ...(q.zeros ? { zeros: hostTensor(f32, [n, k / group], q.zeros) } : {}),
    y: poisoned(act, [m, n]),
  };
  return { m, n, k, q, codes, x, args, withZeros: q.zeros !== undefined };
}

/**
 * Throws unless every y is within its bound of the float64 reference: one rounding to the output
 * dtype, plus f32 accumulation (1e-6 per term of the largest scaled code).
 */
export function expectNearReference(y: Float64Array, c: ReturnType<typeof makeCase>, act: Dtype, weight: Dtype, what: string): void {
  const reference = lowbitMatmulReference(c.x.data, c.m, c.q, c.codes);
  const scale = Math.max(...c.q.scales);
  for (let i = 0; i < y.length; i++) {
    const bound = Math.abs(reference[i]!) * 2 ** -(act.mantissaBits! + 1) + 1e-6 * c.k * scale * Math.max(1, weight.maxValue);
    if (!(Math.abs(y[i]! - reference[i]!) <= bound)) throw new Error(`${what} y[${i}] = ${y[i]}, reference ${reference[i]}`);
  }
}
