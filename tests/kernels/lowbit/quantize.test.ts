/**
 * Host-side quantization (kernels/lowbit/quantize.ts): codes pack bit-exactly as every tensor of their
 * dtype does, and the dequantized weights are within the scheme's rounding bound of the float64 weights.
 */
import { type Dtype, bf16, bool, dtype, f16, f32, i1, isFloat } from '../../../compiler/ir/dtype.js';
import { convertNumber } from '../../../compiler/ir/dtype-convert.js';
import { pack } from '../../../compiler/ir/pack.js';
import { Tensor } from '../../../runtime/tensor.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { QuantizeError, codeValues, dequantize, quantize } from '../../../kernels/lowbit/quantize.js';

const INTS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8'].map(dtype);
const FLOATS = ['f8e4m3', 'f8e5m2', 'f6e3m2', 'f6e2m3', 'f5e2m2', 'f4e2m1', 'f3e1m1'].map(dtype);
const [N, K] = [5, 256];

function weights(seed: number): Float64Array {
  const r = rng(seed);
  // Rows of different magnitudes, and a skewed row (all positive) for the asymmetric zero point.
  return Float64Array.from({ length: N * K }, (_, i) => {
    const row = Math.floor(i / K);
    const w = (2 * r() - 1) * 10 ** (row - 2);
    return row === 4 ? Math.abs(w) + 0.5 : w;
  });
}

/** The spacing of d's values around x (its unit in the last place; subnormal spacing near 0). */
function ulp(d: Dtype, x: number): number {
  const e = Math.max(Math.floor(Math.log2(Math.abs(x) || Number.MIN_VALUE)), 1 - d.bias!);
  return 2 ** (e - d.mantissaBits!);
}

describe('quantize', () => {
  const seed = freshSeed();
  const w = weights(seed);

  describe.each([32, 64, 128, 'channel'] as const)('group %s', (group) => {
    it.each([...INTS, ...FLOATS].map((d) => [d.name, d] as const))('%s codes pack as tensors do and dequantize within the rounding bound', (_, d) => {
      for (const symmetric of d.kind === 'unsigned' && d.bits >= 2 ? [false, true] : [false]) {
        const q = quantize(w, [N, K], { dtype: d, group, symmetric });
        const codes = codeValues(q);
        // Bit-exact: unpacking and repacking gives the words back (every code is a valid pattern), and
        // they are the runtime tensor's storage of the same codes (the layout is tests/compiler/ir/pack.test.ts's).
        expect(Array.from(pack(d, codes))).toEqual(Array.from(q.codes));
        const storage = Tensor.fromValues(d, [N, K], codes).storage;
        expect(Array.from(new Uint32Array(storage.buffer, storage.byteOffset, storage.byteLength / 4))).toEqual(Array.from(q.codes));
        const deq = dequantize(q);
        const size = group === 'channel' ? K : group;
        for (let i = 0; i < N * K; i++) {
          const at = Math.floor(i / K) * (K / size) + Math.floor((i % K) / size);
          const scale = q.scales[at]!;
          const err = Math.abs(deq[i]! - w[i]!);
          const what = `${d.name} group ${group}${symmetric ? ' symmetric' : ''} (seed ${seed}) element ${i}: ${w[i]} -> ${deq[i]}`;
          // Floats: within half a unit of the format at the scaled value (the scale's own rounding aside).
          // Integers: half a step, or one step where the asymmetric zero point's rounding pushed the
          // top code past the range.
          const bound = isFloat(d)
            ? scale * (ulp(d, w[i]! / scale) / 2 + 1e-9 * Math.abs(w[i]! / scale))
            : scale * (d.kind === 'unsigned' && !symmetric ? 1 : 0.5) * (1 + 1e-9);
          if (!(err <= bound)) throw new Error(`${what} is ${err} off; the bound is ${bound}`);
        }
        // Zero is exact in every scheme: no group shifts it.
        const zeroAt = quantize(Float64Array.from(w, (x, i) => (i % 7 === 0 ? 0 : x)), [N, K], { dtype: d, group, symmetric });
        const deqZero = dequantize(zeroAt);
        for (let i = 0; i < N * K; i += 7) expect(deqZero[i]).toBe(0);
      }
    });
  });

  it('stores the scales in the scale dtype, and computes the codes from the stored scale', () => {
    for (const scaleDtype of [f32, f16, bf16]) {
      const q = quantize(w, [N, K], { dtype: dtype('u4'), group: 64, scaleDtype });
      for (const s of q.scales) expect(convertNumber(scaleDtype, s)).toBe(s);
      const deq = dequantize(q);
      for (let i = 0; i < N * K; i++) expect(Math.abs(deq[i]! - w[i]!)).toBeLessThanOrEqual(q.scales[Math.floor(i / K) * 4 + Math.floor((i % K) / 64)]! * (1 + 1e-9));
    }
  });

  it('gives a group of zeros the scale 0 and dequantizes it to zeros', () => {
    const x = Float64Array.from({ length: 2 * 64 }, (_, i) => (i < 64 ? 0 : i - 90));
    for (const d of [dtype('u4'), dtype('i4'), dtype('f4e2m1')]) {
      const q = quantize(x, [2, 64], { dtype: d, group: 32 });
      expect(q.scales[0]).toBe(0);
      expect(Array.from(dequantize(q).subarray(0, 64))).toEqual(new Array(64).fill(0));
    }
  });

  it('refuses what it cannot represent, naming why', () => {
    const x = new Float64Array(64).fill(1);
    expect(() => quantize(x, [1, 64], { dtype: dtype('u4'), group: 48 })).toThrow('group 48 does not divide K = 64');
    expect(() => quantize(x, [1, 64], { dtype: i1, group: 32 })).toThrow(QuantizeError);
    expect(() => quantize(x, [1, 64], { dtype: dtype('u1'), group: 32, symmetric: true })).toThrow('symmetric u1');
    expect(() => quantize(x, [1, 64], { dtype: bool, group: 32 })).toThrow('codes of bool');
    expect(() => quantize(x, [1, 64], { dtype: f16, group: 32 })).toThrow('codes of f16');
    expect(() => quantize(x, [2, 64], { dtype: dtype('u4'), group: 32 })).toThrow('64 weights for shape [2, 64]');
    expect(() => quantize(Float64Array.from(x, (v, i) => (i === 3 ? NaN : v)), [1, 64], { dtype: dtype('u4'), group: 32 })).toThrow('weight 3 is NaN');
    expect(() => quantize(Float64Array.from(x, () => 1e30), [1, 64], { dtype: dtype('u4'), group: 32, scaleDtype: f16 })).toThrow('overflows f16');
    // Formats that saturate instead of reaching infinity overflow too (review: the scale stuck at 448 and -1e6 came back as -57344).
    for (const scaleDtype of [dtype('f8e4m3'), dtype('f4e2m1')]) {
      expect(() => quantize(Float64Array.from(x, () => -1e6), [1, 64], { dtype: dtype('i8'), group: 32, scaleDtype })).toThrow(`overflows ${scaleDtype.name}`);
    }
    // Misuse from JavaScript (review: TypeErrors, or "the scale NaN overflows f32" for a dtype's name).
    expect(() => quantize(null as never, [1, 64], { dtype: dtype('u4'), group: 32 })).toThrow('quantize: expected an array of weights, got null');
    expect(() => quantize(x, [1, 64], { group: 32 } as never)).toThrow('quantize: dtype must be a dtype (such as u4 or f16 from tskc), got nothing');
    expect(() => quantize(x, [1, 64], { dtype: 'u4' as never, group: 32 })).toThrow('quantize: dtype must be a dtype (such as u4 or f16 from tskc), got "u4"');
    expect(() => quantize(x, 64 as never, { dtype: dtype('u4'), group: 32 })).toThrow('quantize: the shape must be [N, K], got 64');
  });

  it('rounds the scale up in its dtype, so that no code clamps (review: 24% off with f16 scales on weights of 1e-5)', () => {
    const rand = rng(freshSeed());
    for (const [d, scaleDtype, size] of [['i8', f16, 1e-5], ['u4', f16, 1e-6], ['i8', dtype('f8e4m3'), 75], ['u8', bf16, 1e-3], ['f4e2m1', dtype('f8e4m3'), 3]] as const) {
      const code = dtype(d);
      const x = Float64Array.from({ length: 4 * 32 }, () => (rand() * 2 - 1) * size);
      const q = quantize(x, [4, 32], { dtype: code, group: 32, scaleDtype });
      const deq = dequantize(q);
      for (let i = 0; i < x.length; i++) {
        const scale = q.scales[Math.floor(i / 32)]!;
        expect(convertNumber(scaleDtype, scale)).toBe(scale);
        // Half a step for symmetric codes, a step with a zero point (its own rounding), a float code's own rounding.
        const bound = isFloat(code) ? Math.max(Math.abs(x[i]!) / 4, 2 ** -2 * scale) : code.kind === 'unsigned' ? scale : scale / 2;
        expect(Math.abs(deq[i]! - x[i]!)).toBeLessThanOrEqual(bound * (1 + 1e-9));
      }
    }
  });
});
