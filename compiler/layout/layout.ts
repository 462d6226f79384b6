/**
 * A layout is a function from coordinates to offsets, given by a shape and a congruent stride
 * (CuTe's Layout). L(c) = sum_i c_i * d_i over the natural coordinate c of an index or coordinate.
 *
 * Shapes hold positive integers and strides non-negative integers: the algebra (complement, inverses,
 * divides) is defined here for non-negative strides only, and the constructor refuses the rest rather
 * than let an operation return a wrong answer later. It also refuses layouts whose size or cosize is
 * past Number.MAX_SAFE_INTEGER ('too-large'), so that every offset in the domain is exact.
 */
import { LayoutError } from './errors.js';
import {
  type IntTuple,
  checkIntTuple,
  congruent,
  describeValue,
  depth,
  flatten,
  formatIntTuple,
  intTupleEqual,
  isInt,
  offsetOf,
  prefixProduct,
  product,
  rank,
} from './int-tuple.js';

export class Layout {
  readonly shape: IntTuple;
  readonly stride: IntTuple;
  /** Number of coordinates in the domain. */
  readonly size: number;
  /** One past the largest offset: the size of the codomain a tensor with this layout needs. */
  readonly cosize: number;

  /** `stride` defaults to the compact colexicographic stride of `shape`. */
  constructor(shape: IntTuple, stride?: IntTuple) {
    checkIntTuple(shape, 'a shape', 1);
    const d = stride ?? prefixProduct(shape);
    checkIntTuple(d, 'a stride', 0);
    if (!congruent(shape, d)) {
      throw new LayoutError('not-congruent', `shape ${formatIntTuple(shape)} and stride ${formatIntTuple(d)} differ in profile`);
    }
    // Rounding is monotonic, so a result past MAX_SAFE_INTEGER is seen as one even when inexact.
    const size = product(shape);
    const s = flatten(shape);
    const cosize = flatten(d).reduce((acc, di, i) => acc + (s[i]! - 1) * di, 0) + 1;
    if (size > Number.MAX_SAFE_INTEGER || cosize > Number.MAX_SAFE_INTEGER) {
      throw new LayoutError('too-large', `${formatIntTuple(shape)}:${formatIntTuple(d)} has size or cosize past 2^53 - 1`);
    }
    this.shape = shape;
    this.stride = d;
    this.size = size;
    this.cosize = cosize;
  }

  get rank(): number {
    return rank(this.shape);
  }

  get depth(): number {
    return depth(this.shape);
  }

  /** Mode i as a layout; a rank-1 layout whose shape is an integer is its own mode 0. */
  mode(i: number): Layout {
    if (isInt(this.shape)) {
      if (i !== 0) throw new LayoutError('out-of-range', `mode ${i} of rank-1 layout ${this}`);
      return this;
    }
    const s = this.shape[i];
    if (s === undefined || i < 0) throw new LayoutError('out-of-range', `mode ${i} of rank-${this.rank} layout ${this}`);
    return new Layout(s, (this.stride as readonly IntTuple[])[i]!);
  }

  /** The top-level modes, in order. */
  modes(): Layout[] {
    return Array.from({ length: this.rank }, (_, i) => this.mode(i));
  }

  /**
   * Evaluates the layout at a linear index (colexicographic) or at a coordinate. As in CuTe, a single
   * integer index past `size` continues along the last mode; each component of a tuple coordinate must
   * lie inside its mode ('out-of-range'). An offset past MAX_SAFE_INTEGER is refused ('too-large').
   */
  at(coord: IntTuple): number {
    const offset = offsetOf(coord, this.shape, this.stride, false);
    if (!Number.isSafeInteger(offset)) throw new LayoutError('too-large', `${this} at index ${formatIntTuple(coord)} is past 2^53 - 1`);
    return offset;
  }

  /** Structural equality: the same shape and stride, nesting included. */
  equals(other: Layout): boolean {
    checkLayout(other, 'equals');
    return intTupleEqual(this.shape, other.shape) && intTupleEqual(this.stride, other.stride);
  }

  /** CuTe notation, e.g. (2,(2,2)):(4,(2,1)). */
  toString(): string {
    return `${formatIntTuple(this.shape)}:${formatIntTuple(this.stride)}`;
  }
}

/** Throws 'invalid-argument' unless `x` is a Layout (for the public entry points). */
export function checkLayout(x: unknown, what: string): asserts x is Layout {
  if (!(x instanceof Layout)) throw new LayoutError('invalid-argument', `${what} needs a Layout, got ${describeValue(x)}`);
}

/** Functional equality: the same size and the same offset at every index of the domain. */
export function functionallyEqual(a: Layout, b: Layout): boolean {
  checkLayout(a, 'functionallyEqual');
  checkLayout(b, 'functionallyEqual');
  if (a.size !== b.size) return false;
  for (let i = 0; i < a.size; i++) if (a.at(i) !== b.at(i)) return false;
  return true;
}

/** Concatenation: the layout whose modes are the given layouts, (A, B, ...). */
export function makeLayout(...modes: Layout[]): Layout {
  if (modes.length === 0) throw new LayoutError('invalid-int-tuple', 'makeLayout needs at least one mode');
  modes.forEach((m) => checkLayout(m, 'makeLayout'));
  return new Layout(
    modes.map((m) => m.shape),
    modes.map((m) => m.stride),
  );
}

/** The flat layout with the same modes as leaves: ((2,3),4):((1,2),6) -> (2,3,4):(1,2,6). */
export function flattenLayout(l: Layout): Layout {
  checkLayout(l, 'flattenLayout');
  const s = flatten(l.shape);
  const d = flatten(l.stride);
  return s.length === 1 ? new Layout(s[0]!, d[0]!) : new Layout(s, d);
}
