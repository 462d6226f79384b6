/**
 * The complement of a layout: the layout of its repetitions.
 */
import { LayoutError } from './errors.js';
import { ceilDiv, flatten, prefixProduct } from './int-tuple.js';
import { Layout, checkLayout, flattenLayout } from './layout.js';
import { coalesce } from './coalesce.js';

/** A leaf mode of a layout, with the stride of its coordinate in the layout's colexicographic index. */
export interface Leaf {
  shape: number;
  stride: number;
  indexStride: number;
}

/**
 * The leaves of L that move (size > 1, stride > 0), sorted by stride, then by shape: the scan that
 * complement and rightInverse share.
 */
export function movingLeavesByStride(l: Layout): Leaf[] {
  const flat = flattenLayout(l);
  const indexStrides = flatten(prefixProduct(flat.shape));
  return flat
    .modes()
    .map((m, i) => ({ shape: m.shape as number, stride: m.stride as number, indexStride: indexStrides[i]! }))
    .filter((m) => m.shape > 1 && m.stride > 0)
    .sort((x, y) => x.stride - y.stride || x.shape - y.shape);
}

/**
 * complement(A, M): the layout C of the repetitions of A, ordered, that fills the offsets A skips.
 * Post: C's strides increase strictly; C(j) == A(i) only at i = j = 0; and, for A without stride-0
 * modes, (A, C) is a bijection onto [0, size(A) * size(C)) with size(A) * size(C) >= M.
 *
 * M (the cotarget) is a positive safe integer ('invalid-int-tuple', 'too-large'). A's strides must stack: sorted by
 * stride, each stride is a multiple of the extent (shape * stride) of the modes below it. When they do
 * not, no layout completes A, and the error says why: 'not-injective' when two coordinates of A share
 * an offset, else 'not-complementable' (injective, but the gaps are not a layout, e.g. (2,2):(1,3)).
 * Telling the two apart is exact up to offsets of 2^24; past that, a layout whose injectivity is not
 * evident from its strides is reported 'not-complementable'. Stride-0 and size-1 modes are ignored.
 */
export function complement(a: Layout, cotarget = 1): Layout {
  checkLayout(a, 'complement');
  if (Number.isInteger(cotarget) && cotarget > Number.MAX_SAFE_INTEGER) {
    throw new LayoutError('too-large', `the cotarget ${cotarget} of complement is past 2^53 - 1`);
  }
  if (typeof cotarget !== 'number' || !Number.isSafeInteger(cotarget) || cotarget < 1) {
    throw new LayoutError('invalid-int-tuple', `the cotarget of complement must be a positive integer, got ${String(cotarget)}`);
  }
  const leaves = movingLeavesByStride(a);
  const shapes: number[] = [];
  const strides: number[] = [];
  let covered = 1; // the extent of the modes seen so far: all their offsets lie below it
  for (const { shape, stride } of leaves) {
    if (stride % covered !== 0) {
      const injective = isInjective(leaves);
      const why = `stride ${stride} of ${a} is not a multiple of extent ${covered}`;
      if (injective === false) throw new LayoutError('not-injective', `${a} reaches some offsets twice (${why})`);
      const unsure = injective === undefined ? '; whether it is injective was not decided (offsets past 2^24)' : '';
      throw new LayoutError('not-complementable', `${why}${unsure}`);
    }
    shapes.push(stride / covered);
    strides.push(covered);
    covered = shape * stride;
  }
  // The last mode repeats the whole; past the cotarget (covered >= M) one repetition is enough.
  if (cotarget > covered) {
    shapes.push(ceilDiv(cotarget, covered));
    strides.push(covered);
  }
  return shapes.length === 0 ? new Layout(1, 0) : coalesce(new Layout(shapes, strides));
}

/**
 * Whether the leaves (sorted by stride) reach each offset at most once; undefined when that is not
 * evident from the strides and their offsets span more than 2^24, too many to enumerate.
 */
function isInjective(leaves: readonly Leaf[]): boolean | undefined {
  // Strides that each pass the largest offset of the leaves below them never collide.
  let reach = 0;
  let increasing = true;
  for (const { shape, stride } of leaves) {
    if (stride <= reach) increasing = false;
    reach += (shape - 1) * stride;
  }
  if (increasing) return true;
  if (reach >= 2 ** 24) return undefined;
  // Walk the offsets in index order (an odometer over the leaves); a collision comes within reach + 1 steps.
  const seen = new Uint8Array(reach + 1);
  const digit = leaves.map(() => 0);
  let offset = 0;
  for (;;) {
    if (seen[offset] === 1) return false;
    seen[offset] = 1;
    let k = 0;
    for (; k < leaves.length; k++) {
      const { shape, stride } = leaves[k]!;
      if (++digit[k]! < shape) {
        offset += stride;
        break;
      }
      digit[k] = 0;
      offset -= (shape - 1) * stride;
    }
    if (k === leaves.length) return true;
  }
}
