/**
 * Functional composition of layouts, and tilers (layouts applied mode by mode).
 */
import { LayoutError } from './errors.js';
import { type IntTuple, isInt } from './int-tuple.js';
import { Layout, checkLayout, flattenLayout } from './layout.js';
import { coalesceUnbounded } from './coalesce.js';
import { type Tiler, byMode, checkTiler, isTilerTuple, tilerLayout } from './tiler.js';

/**
 * composition(A, B): the layout R = A ∘ B with R(i) = A(B(i)) for every i < size(B), and with the
 * shape of B (each leaf mode of B possibly refined into sub-modes). A tuple tiler composes mode by mode.
 *
 * A's last mode is treated as unbounded, as in CuTe: R(i) == A(B(i)) holds also where B(i) >= size(A),
 * with A evaluated past its size along its last leaf (so A is simplified with coalesceUnbounded, which
 * keeps that leaf's stride even when its size is 1). A leaf of B of size 1 or stride 0 composes to
 * s:0 with no condition. Each other leaf s:d of B needs the divisibility
 * conditions: d must divide, or be divided by, each extent of A it steps over ('stride-divisibility'),
 * and s must be divisible by the part of it each mode of A provides ('shape-divisibility'). The leaves
 * are then composed one by one, which is right only if their offsets add without carrying from one
 * mode of A into the next ('mode-overlap'). When a condition fails a LayoutError says which. These are
 * CuTe's conditions, and like CuTe they refuse some compositions a layout could represent: a stride
 * that divides no extent of A even where the leaf's offsets stay inside one mode ((3,4):(4,1) ∘ 2:2
 * is refused, though 2:8 gives the same offsets).
 */
export function composition(a: Layout, b: Tiler): Layout {
  checkLayout(a, 'composition');
  checkTiler(b, 'composition');
  if (isTilerTuple(b)) return byMode(a, b, composition);
  const bl = tilerLayout(b);
  const modesOfA = flattenLayout(coalesceUnbounded(a)).modes();
  const extents = modesOfA.map((m) => m.shape as number);
  const used = extents.map(() => 0); // largest digit of each mode of A that the leaves of B reach, summed
  const leaves = flattenLayout(bl)
    .modes()
    .map((leaf) => {
      const r = composeLeaf(modesOfA, leaf.shape as number, leaf.stride as number, `${a} ∘ ${bl}`);
      r.maxDigit.forEach((m, k) => (used[k]! += m));
      return r;
    });
  used.slice(0, -1).forEach((u, k) => {
    if (u >= extents[k]!) {
      throw new LayoutError('mode-overlap', `the modes of ${bl} add up past extent ${extents[k]} of mode ${k} of ${a}`);
    }
  });
  // Each leaf of B becomes its refinement (a single mode, or a tuple of sub-modes), nested as in B.
  let next = 0;
  const rebuild = (profile: IntTuple, pick: (r: ComposedLeaf) => IntTuple): IntTuple =>
    isInt(profile) ? pick(leaves[next++]!) : profile.map((p) => rebuild(p, pick));
  const shape = rebuild(bl.shape, (r) => r.shape);
  next = 0;
  return new Layout(shape, rebuild(bl.shape, (r) => r.stride));
}

interface ComposedLeaf {
  shape: IntTuple;
  stride: IntTuple;
  /** For each mode k of A, the largest digit of that mode among the offsets of the leaf. */
  maxDigit: number[];
}

/** A ∘ (s:d) for one leaf mode of B, walking the coalesced modes of A. */
function composeLeaf(modesOfA: Layout[], s: number, d: number, what: string): ComposedLeaf {
  const maxDigit = modesOfA.map(() => 0);
  if (d === 0 || s === 1) return { shape: s, stride: 0, maxDigit }; // offset 0 only: A(0) = 0
  const shapes: number[] = [];
  const strides: number[] = [];
  let restShape = s;
  let restStride = d;
  for (const [k, m] of modesOfA.slice(0, -1).entries()) {
    const [ms, md] = [m.shape as number, m.stride as number];
    if (restStride % ms === 0) {
      // The leaf's stride steps over this mode of A entirely.
      restStride /= ms;
      continue;
    }
    if (ms % restStride !== 0) {
      throw new LayoutError('stride-divisibility', `in ${what}, stride ${restStride} of ${s}:${d} and extent ${ms} do not divide one another`);
    }
    const take = Math.min(ms / restStride, restShape);
    if (take < restShape && restShape % take !== 0) {
      throw new LayoutError('shape-divisibility', `in ${what}, extent ${restShape} of ${s}:${d} is not divisible by the ${take} that mode ${ms}:${md} provides`);
    }
    if (take > 1) {
      shapes.push(take);
      strides.push(md * restStride);
      maxDigit[k] = (take - 1) * restStride;
    }
    restShape /= take;
    restStride = 1;
    if (restShape === 1) break;
  }
  if (restShape > 1 || shapes.length === 0) {
    shapes.push(restShape);
    strides.push((modesOfA[modesOfA.length - 1]!.stride as number) * restStride);
  }
  return shapes.length === 1 ? { shape: shapes[0]!, stride: strides[0]!, maxDigit } : { shape: shapes, stride: strides, maxDigit };
}
