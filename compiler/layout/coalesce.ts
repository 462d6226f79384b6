/**
 * coalesce and filter: simplifications that keep the layout's function.
 */
import { type IntTuple, isInt } from './int-tuple.js';
import { Layout, flattenLayout, makeLayout } from './layout.js';

/**
 * coalesce(L): the flattest layout with the same function on [0, size(L)).
 * Drops size-1 modes and merges neighbours (s0:d0, s1:d1) with d1 == s0*d0 into (s0*s1):d0.
 * Post: functionallyEqual(coalesce(L), L), depth(coalesce(L)) <= 1, and no two modes merge further.
 *
 * coalesce(L, profile): coalesces each mode of L separately where `profile` has a tuple, so the
 * result keeps the top-level shape of `profile` (an integer in the profile coalesces that whole mode).
 */
export function coalesce(l: Layout, profile?: IntTuple): Layout {
  if (profile !== undefined && !isInt(profile)) {
    const modes = l.modes();
    return makeLayout(...modes.map((m, i) => (i < profile.length ? coalesce(m, profile[i]!) : m)));
  }
  const shapes: number[] = [];
  const strides: number[] = [];
  for (const m of flattenLayout(l).modes()) {
    const [n, stride] = [m.shape as number, m.stride as number];
    if (n === 1) continue;
    const last = shapes.length - 1;
    if (last >= 0 && strides[last]! * shapes[last]! === stride) {
      shapes[last]! *= n;
    } else {
      shapes.push(n);
      strides.push(stride);
    }
  }
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
