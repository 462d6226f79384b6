/**
 * Host-side weight quantization for the low-bit kernels: a weight matrix W[N, K] (row n is output
 * channel n, K the reduction axis) becomes codes of a narrow dtype plus one scale (and for asymmetric
 * integer codes one zero point) per group of `group` consecutive elements along K.
 *
 *   dequantized W[n, k] = (code[n, k] - zero[n, k / group]) * scale[n, k / group]
 *
 * Schemes, by the code dtype:
 *   - signed iB (B >= 2), symmetric: scale = max|w| / (2^(B-1) - 1), code = round(w / scale), zero 0;
 *   - unsigned uB, asymmetric (the default): scale = (max - min) / (2^B - 1) over the group (which
 *     always includes 0, so that 0 stays exact), zero = round(-min / scale), code = round(w / scale) +
 *     zero, clamped to [0, 2^B - 1];
 *   - unsigned uB (B >= 2), symmetric: zero fixed at 2^(B-1), scale = max|w| / (2^(B-1) - 1);
 *   - small floats (f8e4m3, f6e3m2, f4e2m1, ...), scaled: scale = max|w| / maxFinite, code = w / scale
 *     rounded to the format (to nearest, ties to even), zero 0.
 * Rounding is to nearest with ties away from zero for integer codes (Math.round on |x|). The scale is
 * rounded up to `scaleDtype` first (so no code clamps) and the codes are computed from the rounded
 * scale, so dequantizing with the stored scales is what the kernels compute. A group of zeros gets
 * scale 0 and the zero point's code.
 *
 * Codes are packed as every tensor of their dtype is (compiler/ir/pack.ts): element i of the row-major
 * [N, K] matrix at bits [i*B, i*B + B) of a stream of 32-bit words, so codes straddle words when B does
 * not divide 32.
 */
import { type Dtype, f32, isFloat } from '../../compiler/ir/dtype.js';
import { convertNumber } from '../../compiler/ir/dtype-convert.js';
import { describeValue } from '../../compiler/ir/errors.js';
import { fromBits, pack, toBits, unpack } from '../../compiler/ir/pack.js';

export interface QuantizeOptions {
  /** The dtype of the codes: u1..u8, i2..i8, or a float of at most 8 bits. */
  readonly dtype: Dtype;
  /** Elements of K per scale (it must divide K), or 'channel' for one scale per row. */
  readonly group: number | 'channel';
  /** Unsigned codes only (signed and float codes are always symmetric): a fixed middle zero point instead of a per-group one. */
  readonly symmetric?: boolean;
  /** The dtype the scales are stored in (f32 by default; f16 or bf16 halve their bytes). */
  readonly scaleDtype?: Dtype;
}

export interface QuantizedWeight {
  readonly n: number;
  readonly k: number;
  readonly dtype: Dtype;
  /** Elements of K per scale. */
  readonly group: number;
  readonly scaleDtype: Dtype;
  /** The packed codes of the row-major [n, k] matrix. */
  readonly codes: Uint32Array;
  /** [n, k / group], row-major: values of scaleDtype. */
  readonly scales: Float64Array;
  /** [n, k / group] integer zero points, or undefined where every zero point is 0. */
  readonly zeros: Float64Array | undefined;
}

export class QuantizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantizeError';
  }
}

export function quantize(weights: ArrayLike<number>, shape: readonly [number, number], options: QuantizeOptions): QuantizedWeight {
  if (weights === null || typeof weights !== 'object' || typeof weights.length !== 'number') throw new QuantizeError(`quantize: expected an array of weights, got ${describeValue(weights)}`);
  if (!Array.isArray(shape) || shape.length !== 2) throw new QuantizeError(`quantize: the shape must be [N, K], got ${describeValue(shape)}`);
  if (options === null || typeof options !== 'object') throw new QuantizeError(`quantize: expected options { dtype, group }, got ${describeValue(options)}`);
  const [n, k] = shape;
  const d = options.dtype;
  const scaleDtype = options.scaleDtype ?? f32;
  for (const [what, t] of [['dtype', d], ['scaleDtype', scaleDtype]] as const) {
    if (!isDtype(t)) throw new QuantizeError(`quantize: ${what} must be a dtype (such as u4 or f16 from tskc), got ${describeValue(t)}`);
  }
  const group = options.group === 'channel' ? k : options.group;
  if (!Number.isInteger(n) || !Number.isInteger(k) || n < 1 || k < 1) throw new QuantizeError(`quantize: shape [${n}, ${k}] is not a matrix`);
  if (weights.length !== n * k) throw new QuantizeError(`quantize: ${weights.length} weights for shape [${n}, ${k}]`);
  if (!Number.isInteger(group) || group < 1 || k % group !== 0) throw new QuantizeError(`quantize: group ${group} does not divide K = ${k}`);
  if (d.bits > 8 || d.kind === 'bool') throw new QuantizeError(`quantize: codes of ${d.name}; choose u1..u8, i2..i8 or a float of at most 8 bits`);
  if (d.kind === 'signed' && d.bits < 2) throw new QuantizeError('quantize: i1 holds only -1 and 0, so it has no symmetric scale; use u1');
  if (options.symmetric && d.kind === 'unsigned' && d.bits < 2) throw new QuantizeError('quantize: a symmetric u1 has no middle code; use the asymmetric u1');
  if (scaleDtype.kind !== 'float') throw new QuantizeError(`quantize: scales of ${scaleDtype.name}; choose a float dtype`);
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i]!)) throw new QuantizeError(`quantize: weight ${i} is ${describeValue(weights[i])}`);
  }
  const asymmetric = d.kind === 'unsigned' && !options.symmetric;
  const groups = k / group;
  const codes = new Float64Array(n * k);
  const scales = new Float64Array(n * groups);
  const zeros = d.kind === 'unsigned' ? new Float64Array(n * groups) : undefined;
  for (let row = 0; row < n; row++) {
    for (let g = 0; g < groups; g++) {
      const start = row * k + g * group;
      let [lo, hi, amax] = [0, 0, 0];
      for (let i = start; i < start + group; i++) {
        const w = weights[i]!;
        [lo, hi, amax] = [Math.min(lo, w), Math.max(hi, w), Math.max(amax, Math.abs(w))];
      }
      const [scale, zero] = scaleAndZero(d, asymmetric, lo, hi, amax, scaleDtype);
      scales[row * groups + g] = scale;
      if (zeros) zeros[row * groups + g] = zero;
      for (let i = start; i < start + group; i++) codes[i] = encode(d, weights[i]!, scale, zero);
    }
  }
  return { n, k, dtype: d, group, scaleDtype, codes: pack(d, codes), scales, zeros };
}

/** The group's scale (already rounded to scaleDtype) and zero point. */
function scaleAndZero(d: Dtype, asymmetric: boolean, lo: number, hi: number, amax: number, scaleDtype: Dtype): [number, number] {
  // The scale s >= 0 rounded up to scaleDtype: rounded down (to nearest), w / scale could pass the
  // codes' range and the largest weights would clamp (review: 24% off with f16 scales on a group of
  // 1e-5). Past the format's largest finite value it overflows, also where the format saturates.
  const stored = (s: number) => {
    let r = convertNumber(scaleDtype, s);
    if (r < s && r < scaleDtype.maxValue) r = fromBits(scaleDtype, toBits(scaleDtype, r) + 1);
    if (!(r >= s) || !Number.isFinite(r)) throw new QuantizeError(`quantize: the scale ${s} overflows ${scaleDtype.name}`);
    return r;
  };
  if (isFloat(d)) return [stored(amax / d.maxFinite), 0];
  if (asymmetric) {
    const scale = stored((hi - lo) / d.maxValue);
    return [scale, scale === 0 ? 0 : Math.min(d.maxValue, Math.max(0, roundHalfAway(-lo / scale)))];
  }
  const half = 2 ** (d.bits - 1) - 1;
  return [stored(amax / half), d.kind === 'unsigned' ? half + 1 : 0];
}

function encode(d: Dtype, w: number, scale: number, zero: number): number {
  if (scale === 0) return zero;
  // To nearest, ties to even; |w / scale| <= maxFinite but for the scale's rounding, which the clamp undoes.
  if (isFloat(d)) return convertNumber(d, Math.min(d.maxFinite!, Math.max(-d.maxFinite!, w / scale)));
  return Math.min(d.maxValue, Math.max(d.minValue, roundHalfAway(w / scale) + zero));
}

const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/** Whether t looks like a Dtype (checked by shape: a caller loaded from source has its own copies). */
function isDtype(t: unknown): t is Dtype {
  const d = t as Partial<Dtype> | null | undefined;
  return typeof d === 'object' && d !== null && typeof d.name === 'string' && typeof d.bits === 'number' && typeof d.kind === 'string';
}

/** The code values of q, unpacked (integers, or the small float's values). */
export function codeValues(q: QuantizedWeight): Float64Array {
  return unpack(q.dtype, q.codes, q.n * q.k);
}

/** The reference the kernels are checked against: W as the codes, scales and zero points say, in float64. */
export function dequantize(q: QuantizedWeight): Float64Array {
  const values = codeValues(q);
  const groups = q.k / q.group;
  const out = new Float64Array(q.n * q.k);
  for (let i = 0; i < out.length; i++) {
    const at = Math.floor(i / q.k) * groups + Math.floor((i % q.k) / q.group);
    out[i] = (values[i]! - (q.zeros?.[at] ?? 0)) * q.scales[at]!;
  }
  return out;
}
