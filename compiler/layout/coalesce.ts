/**
 * coalesce and filter: simplifications that keep the layout's function.
 */
import { LayoutError } from './errors.js';
import { type IntTuple, checkIntTuple, isInt } from './int-tuple.js';
import { Layout, checkLayout, flattenLayout, makeLayout } from './layout.js';

/**
 * coalesce(L): the flattest layout with the same function on [0, size(L)).
 * Drops size-1 modes and merges neighbours (s0:d0, s1:d1) with d1 == s0*d0 into (s0*s1):d0.
 * Post: functionallyEqual(coalesce(L), L), depth(coalesce(L)) <= 1, and no two modes merge further.
 *
 * coalesce(L, profile): coalesces each mode of L separately where `profile` has a tuple, so the
 * result keeps the top-level shape of `profile` (an integer in the profile coalesces that whole mode).
 * A profile tuple may be shorter than the layout (the modes past it are kept), not longer ('rank-mismatch').
 */
export function coalesce(l: Layout, profile?: IntTuple): Layout {
  checkLayout(l, 'coalesce');
  if (profile !== undefined) checkIntTuple(profile, 'a coalesce profile', 0);
  if (profile === undefined || isInt(profile)) return coalesceLeaves(l, false);
  if (profile.length > l.rank) {
    throw new LayoutError('rank-mismatch', `a coalesce profile of rank ${profile.length} for ${l} of rank ${l.rank}`);
  }
  return makeLayout(...l.modes().map((m, i) => (i < profile.length ? coalesce(m, profile[i]!) : m)));
}

/**
 * coalesceUnbounded(L): coalesce for a layout read with its last mode unbounded (as composition
 * reads A): the same function as L on every integer >= 0, not only on [0, size(L)). It differs from
 * coalesce only at the last leaf, which is never dropped, even with size 1 (its stride is the step
 * past the domain), and is merged into the mode before it only when its stride continues that mode.
 * Post: coalesceUnbounded(L).at(i) == L.at(i) for every i >= 0; depth <= 1.
 */
export function coalesceUnbounded(l: Layout): Layout {
  checkLayout(l, 'coalesceUnbounded');
  return coalesceLeaves(l, true);
}

function coalesceLeaves(l: Layout, keepLast: boolean): Layout {
  const shapes: number[] = [];
  const strides: number[] = [];
  const leaves = flattenLayout(l).modes();
  leaves.forEach((m, i) => {
    const [n, stride] = [m.shape as number, m.stride as number];
    if (n === 1 && !(keepLast && i === leaves.length - 1)) return;
    const last = shapes.length - 1;
    if (last >= 0 && strides[last]! * shapes[last]! === stride) {
      shapes[last]! *= n;
    } else {
      shapes.push(n);
      strides.push(stride);
    }
  });
  if (shapes.length === 0) return new Layout(1, 0);
  if (shapes.length === 1) return new Layout(shapes[0]!, strides[0]!);
  return new Layout(shapes, strides);
}

/**
 * filter(L): L restricted to the modes that move through memory — stride-0 modes dropped, the rest
 * coalesced. Post: the image of filter(L) equals the image of L, and filter(L) is injective when
 * L's non-broadcast modes are.
 */
export function filter(l: Layout): Layout {
  const modes = flattenLayout(l).modes();
  const s = modes.map((m) => (m.stride === 0 ? 1 : m.shape));
  const d = modes.map((m) => m.stride);
  return coalesce(new Layout(s, d));
}
