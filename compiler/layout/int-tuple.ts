/**
 * Integer tuples: an integer, or a tuple of integer tuples (CuTe's IntTuple). Shapes, strides and
 * coordinates of layouts are all integer tuples. Coordinates are colexicographic: the leftmost mode
 * varies fastest.
 */
import { LayoutError } from './errors.js';

export type IntTuple = number | readonly IntTuple[];

export function isInt(t: IntTuple): t is number {
  return typeof t === 'number';
}

export function isTuple(t: IntTuple): t is readonly IntTuple[] {
  return Array.isArray(t);
}

/** The deepest nesting an integer tuple may have: deeper tuples are refused rather than overflow the stack. */
export const MAX_DEPTH = 64;

/**
 * Throws unless `t` is an integer tuple whose leaves are safe integers >= `min` (tuples must be
 * non-empty and nested at most MAX_DEPTH deep).
 */
export function checkIntTuple(t: unknown, what: string, min: number, level = 0): asserts t is IntTuple {
  if (typeof t === 'number') {
    if (!Number.isSafeInteger(t) || t < min) {
      throw new LayoutError('invalid-int-tuple', `${what} must hold integers >= ${min}, got ${t}`);
    }
    return;
  }
  if (!Array.isArray(t) || t.length === 0) {
    throw new LayoutError('invalid-int-tuple', `${what} must be an integer or a non-empty tuple, got ${describeValue(t)}`);
  }
  if (level >= MAX_DEPTH) throw new LayoutError('invalid-int-tuple', `${what} is nested deeper than ${MAX_DEPTH}`);
  for (const e of t) checkIntTuple(e, what, min, level + 1);
}

/** A short description of a value for an error message (never throws, never recurses deeply). */
export function describeValue(x: unknown): string {
  if (Array.isArray(x)) return x.length === 0 ? 'an empty tuple' : `a tuple of ${x.length}`;
  return typeof x === 'string' ? JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x) : String(x);
}

/** Number of top-level modes: 1 for an integer. */
export function rank(t: IntTuple): number {
  return isInt(t) ? 1 : t.length;
}

/** Nesting depth: 0 for an integer, 1 for a flat tuple. */
export function depth(t: IntTuple): number {
  return isInt(t) ? 0 : 1 + Math.max(...t.map(depth));
}

/** Product of all leaves. */
export function product(t: IntTuple): number {
  return isInt(t) ? t : t.reduce<number>((acc, e) => acc * product(e), 1);
}

/** The leaves in order (colexicographic mode order is left to right). */
export function flatten(t: IntTuple): number[] {
  return isInt(t) ? [t] : t.flatMap(flatten);
}

/** Rebuilds a tuple with the nesting profile of `profile` from its leaves `flat` (the inverse of flatten). */
export function unflatten(flat: readonly number[], profile: IntTuple): IntTuple {
  let next = 0;
  const build = (p: IntTuple): IntTuple => {
    if (isInt(p)) {
      const v = flat[next++];
      if (v === undefined) throw new LayoutError('not-congruent', `too few leaves to fill ${formatIntTuple(profile)}`);
      return v;
    }
    return p.map(build);
  };
  const out = build(profile);
  if (next !== flat.length) throw new LayoutError('not-congruent', `too many leaves for ${formatIntTuple(profile)}`);
  return out;
}

/**
 * Exclusive prefix product, congruent with `t`: the strides of the compact colexicographic layout
 * of shape `t`. prefixProduct((2,(3,4))) = (1,(2,6)).
 */
export function prefixProduct(t: IntTuple, init = 1): IntTuple {
  if (isInt(t)) return init;
  let acc = init;
  return t.map((e) => {
    const r = prefixProduct(e, acc);
    acc *= product(e);
    return r;
  });
}

/** Same nesting profile (the leaves may differ). */
export function congruent(a: IntTuple, b: IntTuple): boolean {
  if (isInt(a) || isInt(b)) return isInt(a) && isInt(b);
  return a.length === b.length && a.every((e, i) => congruent(e, b[i]!));
}

/** Structural equality. */
export function intTupleEqual(a: IntTuple, b: IntTuple): boolean {
  if (isInt(a) || isInt(b)) return a === b;
  return a.length === b.length && a.every((e, i) => intTupleEqual(e, b[i]!));
}

/** ceil(a / b) for safe integers a >= 0 and b >= 1, exact (no floating-point rounding). */
export function ceilDiv(a: number, b: number): number {
  checkIntTuple(a, 'a dividend', 0);
  checkIntTuple(b, 'a divisor', 1);
  const r = a % b;
  return (a - r) / b + (r > 0 ? 1 : 0);
}

/**
 * CuTe's shape division: how many times `b` fits into `a`, mode by mode. For integers it requires
 * a % b == 0 (giving a / b) or b % a == 0 (giving 1: `a` fits inside one `b`). A tuple divided by an
 * integer consumes the divisor from the left: shapeDiv((3,4,5), 6) = (1,2,5). Both are shapes
 * (positive integers).
 */
export function shapeDiv(a: IntTuple, b: IntTuple): IntTuple {
  checkIntTuple(a, 'a shape', 1);
  checkIntTuple(b, 'a shape', 1);
  return divShape(a, b);
}

function divShape(a: IntTuple, b: IntTuple): IntTuple {
  if (isTuple(a) && isTuple(b)) {
    if (a.length !== b.length) throw new LayoutError('rank-mismatch', `shapeDiv of ${formatIntTuple(a)} by ${formatIntTuple(b)}`);
    return a.map((e, i) => divShape(e, b[i]!));
  }
  if (isTuple(a)) {
    let rest = b as number;
    return a.map((e) => {
      const r = divShape(e, rest);
      rest = divShape(rest, product(e)) as number;
      return r;
    });
  }
  const bb = product(b);
  if (a % bb === 0) return a / bb;
  if (bb % a === 0) return 1;
  throw new LayoutError('shape-divisibility', `${a} and ${bb} do not divide one another`);
}

/** Sum over leaves of a[i] * b[i]; `a` and `b` must be congruent. */
export function innerProduct(a: IntTuple, b: IntTuple): number {
  if (isInt(a) && isInt(b)) return a * b;
  if (isTuple(a) && isTuple(b) && a.length === b.length) {
    return a.reduce<number>((acc, e, i) => acc + innerProduct(e, b[i]!), 0);
  }
  throw new LayoutError('not-congruent', `${formatIntTuple(a)} and ${formatIntTuple(b)} are not congruent`);
}

/**
 * The natural coordinate of a linear index within `shape`, colexicographic: idx2crd(5, (2,3)) = (1,2).
 * The last mode is unbounded, as in CuTe, so indices past the size continue along it. The index must
 * be a non-negative safe integer ('out-of-range').
 */
export function idx2crd(idx: number, shape: IntTuple): IntTuple {
  checkIndex(idx);
  checkIntTuple(shape, 'a shape', 1);
  return toCoord(idx, shape);
}

function checkIndex(idx: unknown): asserts idx is number {
  if (typeof idx !== 'number' || !Number.isSafeInteger(idx) || idx < 0) {
    throw new LayoutError('out-of-range', `index ${describeValue(idx)} must be a non-negative integer`);
  }
}

function toCoord(idx: number, shape: IntTuple): IntTuple {
  if (isInt(shape)) return idx;
  let rest = idx;
  return shape.map((s, i) => {
    if (i === shape.length - 1) return toCoord(rest, s);
    const n = product(s);
    const c = toCoord(rest % n, s);
    rest = Math.floor(rest / n);
    return c;
  });
}

/**
 * Offset of a coordinate: the inner product of the (natural) coordinate with the stride. A coordinate
 * may be an integer at any level, standing for the colexicographic index within that sub-shape. Only a
 * coordinate that is a single integer may run past the size (along the last mode, as in CuTe); each
 * component of a tuple coordinate must lie inside its mode ('out-of-range').
 */
export function crd2idx(crd: IntTuple, shape: IntTuple, stride: IntTuple): number {
  checkIntTuple(shape, 'a shape', 1);
  checkIntTuple(stride, 'a stride', 0);
  if (!congruent(shape, stride)) throw new LayoutError('not-congruent', `shape ${formatIntTuple(shape)} and stride ${formatIntTuple(stride)} differ in profile`);
  return offsetOf(crd, shape, stride, false);
}

/** crd2idx for a checked shape and stride; `bounded`: the coordinate must lie inside `shape`. */
export function offsetOf(crd: IntTuple, shape: IntTuple, stride: IntTuple, bounded: boolean): number {
  if (Array.isArray(crd)) {
    if (!isTuple(shape) || !isTuple(stride) || crd.length !== shape.length) {
      throw new LayoutError('rank-mismatch', `coordinate ${formatCoord(crd)} does not fit shape ${formatIntTuple(shape)}`);
    }
    return crd.reduce<number>((acc, c, i) => acc + offsetOf(c, shape[i]!, stride[i]!, true), 0);
  }
  checkIndex(crd);
  if (bounded && crd >= product(shape)) {
    throw new LayoutError('out-of-range', `coordinate component ${crd} is outside mode ${formatIntTuple(shape)}`);
  }
  if (isInt(shape)) return crd * (stride as number);
  return innerProduct(toCoord(crd, shape), stride);
}

/** formatIntTuple for a coordinate that may be malformed (used in error messages). */
function formatCoord(c: readonly unknown[]): string {
  return `(${c.map((x) => (Array.isArray(x) ? formatCoord(x) : describeValue(x))).join(',')})`.slice(0, 80);
}

/** CuTe notation: 4, (2,3), (2,(2,2)). */
export function formatIntTuple(t: IntTuple): string {
  return isInt(t) ? String(t) : `(${t.map(formatIntTuple).join(',')})`;
}
