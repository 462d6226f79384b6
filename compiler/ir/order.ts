/**
 * Order facts that the structure of a kernel proves, for backends that have a cheaper form of an op on
 * a known range. The one used now: exp(x − max(x)), as softmax, cross-entropy and flash attention write
 * it, has an argument that is never positive, which the C backend's exp takes in fewer operations.
 *
 * The interpreter's max (reduce and elementwise) ignores a NaN operand, so a max over elements that are
 * not all NaN is not NaN and is at least each of them; every rule below holds wherever the smaller side
 * is not NaN, and where it is NaN the difference is NaN.
 */
import type { Op, Value } from './ir.js';
import { sameShape } from './types.js';

/** The op that defines a value (undefined for kernel and region arguments). */
export type DefOf = (v: Value) => Op | undefined;

/** Whether every element of the float tile v is ≤ 0 or NaN: v = a − b with b ≥ a proven. */
export function neverPositive(v: Value, defOf: DefOf): boolean {
  const op = defOf(v);
  if (!op || op.opcode !== 'sub' || v.type.dtype.kind !== 'float') return false;
  const [a, b] = op.operands as [Value, Value];
  return atLeast(b, a, defOf);
}

/** Whether b ≥ a at every index where a is not NaN (a and b of one shape). */
export function atLeast(b: Value, a: Value, defOf: DefOf): boolean {
  if (b === a) return true;
  const op = defOf(b);
  if (!op) return false;
  if (op.opcode === 'max') return op.operands.some((o) => atLeast(o, a, defOf));
  // A maximum of a (in its keep-dims shape), broadcast back to a's shape or already in it.
  const source = op.opcode === 'broadcast' ? op.operands[0]! : b;
  return maxima(source, defOf).some((m) => m.of === a && sameShape(padded(source, a), keptShape(a, m.axis)));
}

/**
 * The (tile, axis) pairs whose maximum along the axis v bounds from above: element j of v, in row-major
 * order, is at least the maximum of `of` along `axis` at element j of that maximum's keep-dims shape.
 * A reduce keeps its elements in that order with or without its reduced dim, and so do views and
 * reshapes.
 */
function maxima(v: Value, defOf: DefOf): { readonly of: Value; readonly axis: number }[] {
  const op = defOf(v);
  if (!op) return [];
  switch (op.opcode) {
    case 'reduce':
      return op.attrs['kind'] === 'max' ? [{ of: op.operands[0]!, axis: op.attrs['axis'] as number }] : [];
    case 'view':
    case 'reshape':
      return maxima(op.operands[0]!, defOf);
    case 'max':
      return op.operands.flatMap((o) => maxima(o, defOf));
    default:
      return [];
  }
}

const shapeOf = (v: Value): readonly number[] => (v.type.kind === 'tile' ? v.type.shape : []);

/** a's shape with extent 1 at axis: a reduce's keep-dims shape. */
const keptShape = (a: Value, axis: number) => shapeOf(a).map((s, i) => (i === axis ? 1 : s));

/** source's shape with leading 1s to a's rank: how a broadcast to a's shape lines it up. */
const padded = (source: Value, a: Value) => [...new Array<number>(Math.max(0, shapeOf(a).length - shapeOf(source).length)).fill(1), ...shapeOf(source)];
