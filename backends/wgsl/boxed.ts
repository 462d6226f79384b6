/**
 * The WGSL form of the C backends' boxed access (backends/clike/affine.ts, boxedAccess): a load or
 * store whose index tiles are affine in the tile coordinates with literal coefficients is checked
 * once for the whole tile instead of lane by lane. Index d at coordinate c is a0_d + sum_k coef_dk c_k,
 * a0_d (`first[d]`, an i32 expression) its value at element 0. The IR's i32 arithmetic wraps, and
 * wrapping is a ring homomorphism, so when the whole range of a0_d + ... lies in [0, extent_d) no lane
 * wrapped and every lane is inside. The ranges are kept within 2^30, so that the guard's own i32
 * arithmetic cannot wrap. With the last tile dim contiguous in memory (offset coefficient 1), each
 * row of the tile is one run of memory that only the mask interrupts.
 */
import type { TensorType } from '../../compiler/ir/types.js';
import { literalRange } from '../clike/affine.js';

export interface WgslBoxedAccess {
  /** A WGSL bool: every lane is inside the tensor at its affine offset. */
  readonly guard: string;
  /** The u32 element offset of row `o` (an i32 expression) of the tile, at its first lane. */
  readonly rowBase: (o: string) => string;
}

const LIMIT = 2 ** 30;

/** u32 literal of an integer that may be negative (its two's complement). */
const u32Literal = (c: number) => (c >= 0 ? `${c}u` : `bitcast<u32>(${c}i)`);

/**
 * `coefs[d][k]`: tensor dim d's coefficient along tile dim k (undefined when an index is not affine
 * with literal coefficients); `extent(d)`: the tensor's extent d as an i32 expression.
 */
export function wgslBoxedAccess(
  tensor: TensorType,
  shape: readonly number[],
  coefs: readonly (readonly number[] | undefined)[],
  first: readonly string[],
  extent: (d: number) => string,
): WgslBoxedAccess | undefined {
  const rank = tensor.shape.length;
  if (rank === 0 || shape.length === 0 || coefs.some((c) => c === undefined)) return undefined;
  const cs = coefs as readonly (readonly number[])[];
  const last = shape.length - 1;
  // Contiguous along the tile's last dim: the tensor's last index steps by 1, every other by 0.
  if (cs.some((c, d) => c[last] !== (d === rank - 1 ? 1 : 0))) return undefined;
  const ranges = cs.map((c) => literalRange(c, shape));
  if (ranges.some((r) => r === undefined || -r[0] > LIMIT || r[1] > LIMIT)) return undefined;
  const guard = (ranges as [number, number][]).map(([lo, hi], d) => `(${first[d]} >= ${-lo}i) && (${first[d]} < ${extent(d)} - ${hi}i)`).join(' && ');
  // The u32 stride of tensor dim d (row-major), and the offset step along tile dim k.
  const stride = (d: number) => Array.from({ length: rank - 1 - d }, (_, j) => `u32(${extent(d + 1 + j)})`).join(' * ') || '1u';
  const along = (k: number) =>
    cs
      .map((c, d) => (c[k] === 0 ? '' : c[k] === 1 ? stride(d) : `${u32Literal(c[k]!)} * ${stride(d)}`))
      .filter(Boolean)
      .join(' + ') || '0u';
  const base = first.map((f, d) => `u32(${f}) * ${stride(d)}`).join(' + ');
  const rows = shape.slice(0, -1);
  const rowStrides = rows.map((_, k) => rows.slice(k + 1).reduce((a, b) => a * b, 1));
  const rowBase = (o: string) =>
    [`(${base})`, ...rows.flatMap((n, k) => (n === 1 || along(k) === '0u' ? [] : [`(${along(k)}) * u32((${o} / ${rowStrides[k]}) % ${n})`]))].join(' + ');
  return { guard, rowBase };
}
