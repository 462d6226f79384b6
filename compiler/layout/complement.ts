/**
 * The complement of a layout: the layout of its repetitions.
 */
import { LayoutError } from './errors.js';
import { ceilDiv } from './int-tuple.js';
import { Layout, flattenLayout } from './layout.js';
import { coalesce } from './coalesce.js';

/**
 * complement(A, M): the layout C of the repetitions of A, ordered, that fills the offsets A skips.
 * Post: C's strides increase strictly; C(j) == A(i) only at i = j = 0; and, for A without stride-0
 * modes, (A, C) is a bijection onto [0, size(A) * size(C)) with size(A) * size(C) >= M.
 *
 * A must be injective with strides that stack: sorted by stride, each stride is a multiple of the
 * extent (shape * stride) of the modes below it. A stride inside that extent means two coordinates
 * share an offset ('not-injective'); a stride past it but not a multiple leaves a gap no layout can
 * describe ('not-complementable'). Stride-0 and size-1 modes are ignored.
 */
export function complement(a: Layout, cotarget = 1): Layout {
  const modes = flattenLayout(a)
    .modes()
    .map((m) => ({ shape: m.shape as number, stride: m.stride as number }))
    .filter((m) => m.shape > 1 && m.stride > 0)
    .sort((x, y) => x.stride - y.stride || x.shape - y.shape);
  const shapes: number[] = [];
  const strides: number[] = [];
  let covered = 1; // every offset below `covered` is reached by the modes seen so far
  for (const { shape, stride } of modes) {
    if (stride < covered) {
      throw new LayoutError('not-injective', `${a} reaches some offsets twice (stride ${stride} inside extent ${covered})`);
    }
    if (stride % covered !== 0) {
      throw new LayoutError('not-complementable', `stride ${stride} of ${a} is not a multiple of extent ${covered}`);
    }
    shapes.push(stride / covered);
    strides.push(covered);
    covered = shape * stride;
  }
  shapes.push(ceilDiv(cotarget, covered));
  strides.push(covered);
  return coalesce(new Layout(shapes, strides));
}
