/**
 * Inverses of layouts, as functions on integers.
 */
import { LayoutError } from './errors.js';
import { Layout, checkLayout, flattenLayout, makeLayout } from './layout.js';
import { coalesce } from './coalesce.js';
import { complement, movingLeavesByStride } from './complement.js';

/**
 * rightInverse(L): a layout R, on a contiguous prefix of offsets 0, 1, 2, ..., with L(R(i)) == i for
 * every i < size(R). Built by following L's modes in order of stride while each stride equals the
 * extent covered so far (1, s1, s1·s2, ...); R sends offset steps back to the index of the mode that
 * makes them. Post: L(R(i)) == i for i < size(R); size(R) is the product of the shapes of that chain
 * of modes: 1 when L has no stride-1 mode of size > 1 (whatever L(1) is: rightInverse((2,2):(2,1)) has
 * size 4), and size(L) when L is a bijection onto [0, size(L)).
 */
export function rightInverse(l: Layout): Layout {
  checkLayout(l, 'rightInverse');
  const shapes: number[] = [];
  const strides: number[] = [];
  let covered = 1;
  for (const m of movingLeavesByStride(l)) {
    if (m.stride !== covered) break;
    shapes.push(m.shape);
    strides.push(m.indexStride);
    covered *= m.shape;
  }
  if (shapes.length === 0) return new Layout(1, 0);
  return coalesce(new Layout(shapes, strides));
}

/**
 * leftInverse(L): a layout R with R(L(i)) == i for every i < size(L), defined on [0, cosize(L)).
 * It is CuTe's construction: the right inverse of (L, complement(L)), which fills the gaps of L's image.
 * L must be injective ('not-injective': a stride-0 mode of size > 1, or modes that overlap) and
 * complementable ('not-complementable'), a condition of the construction, not of left inverses:
 * (2,2):(1,3) is refused though (3,2):(1,2) is a left inverse of it.
 */
export function leftInverse(l: Layout): Layout {
  checkLayout(l, 'leftInverse');
  if (flattenLayout(l).modes().some((m) => (m.shape as number) > 1 && m.stride === 0)) {
    throw new LayoutError('not-injective', `${l} has a broadcast (stride-0) mode and no left inverse`);
  }
  return rightInverse(makeLayout(l, complement(l)));
}
