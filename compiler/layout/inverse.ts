/**
 * Inverses of layouts, as functions on integers.
 */
import { LayoutError } from './errors.js';
import { prefixProduct, flatten } from './int-tuple.js';
import { Layout, flattenLayout, makeLayout } from './layout.js';
import { coalesce } from './coalesce.js';
import { complement } from './complement.js';

/**
 * rightInverse(L): the largest R (a contiguous prefix of offsets 0, 1, 2, ...) with L(R(i)) == i for
 * every i < size(R). Built by following L's modes in order of stride while each stride equals the
 * extent covered so far; R sends offset steps back to the index of the mode that makes them.
 * Post: L(R(i)) == i for i < size(R); size(R) is 1 when L(1) != 1 or L has no stride-1 mode.
 */
export function rightInverse(l: Layout): Layout {
  const flat = flattenLayout(l);
  const indexStrides = flatten(prefixProduct(flat.shape));
  const modes = flat
    .modes()
    .map((m, i) => ({ shape: m.shape as number, stride: m.stride as number, indexStride: indexStrides[i]! }))
    .filter((m) => m.shape > 1 && m.stride > 0)
    .sort((x, y) => x.stride - y.stride);
  const shapes: number[] = [];
  const strides: number[] = [];
  let covered = 1;
  for (const m of modes) {
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
 * It is the right inverse of (L, complement(L)), which fills the gaps of L's image.
 * L must be injective: a stride-0 mode of size > 1, or modes that overlap, raise 'not-injective'.
 */
export function leftInverse(l: Layout): Layout {
  if (flattenLayout(l).modes().some((m) => (m.shape as number) > 1 && m.stride === 0)) {
    throw new LayoutError('not-injective', `${l} has a broadcast (stride-0) mode and no left inverse`);
  }
  return rightInverse(makeLayout(l, complement(l)));
}
