/**
 * fast-check generators of layouts for the property tests. Small extents keep exhaustive checks over
 * every index of a layout cheap.
 */
import fc from 'fast-check';
import { type IntTuple, Layout, type Tiler, makeLayout, unflatten } from '../../../compiler/layout/index.js';

/** A nesting profile with `leaves` leaves: an integer, or a tuple of up to 3 sub-profiles, depth <= 2. */
function profile(leaves: number, depth: number, rng: () => number): IntTuple {
  if (leaves === 1 && (depth === 0 || rng() < 0.5)) return 0;
  if (depth === 0) return Array.from({ length: leaves }, () => 0);
  const parts: IntTuple[] = [];
  let left = leaves;
  while (left > 0) {
    const take = 1 + Math.floor(rng() * Math.min(left, 3));
    parts.push(profile(take, depth - 1, rng));
    left -= take;
  }
  return parts;
}

/** Arranges flat shape and stride leaves into one random nesting profile. */
function nested(shapes: number[], strides: number[], seed: number): Layout {
  let s = seed;
  const rng = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const p = profile(shapes.length, 2, rng);
  return new Layout(unflatten(shapes, p), unflatten(strides, p));
}

/** Any layout: 1-4 modes of extent 1-6, strides 0-12, random nesting. */
export const anyLayout: fc.Arbitrary<Layout> = fc
  .integer({ min: 1, max: 4 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: 0, max: 12 }), { minLength: n, maxLength: n }),
      fc.nat(),
    ),
  )
  .map(([shapes, strides, seed]) => nested(shapes, strides, seed));

/** Layouts whose extents and strides are powers of two (stride 0 allowed): composition always applies. */
export const pow2Layout: fc.Arbitrary<Layout> = fc
  .integer({ min: 1, max: 4 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: -1, max: 5 }), { minLength: n, maxLength: n }),
      fc.nat(),
    ),
  )
  .map(([shapes, strides, seed]) => nested(shapes.map((e) => 2 ** e), strides.map((e) => (e < 0 ? 0 : 2 ** e)), seed));

/**
 * Injective layouts that a complement can complete: modes stacked in a random order, each stride the
 * extent below it times a gap factor.
 */
function stackedLayout(extent: fc.Arbitrary<number>, gap: fc.Arbitrary<number>): fc.Arbitrary<Layout> {
  return fc
    .integer({ min: 1, max: 4 })
    .chain((n) =>
      fc.tuple(
        fc.array(extent, { minLength: n, maxLength: n }),
        fc.array(gap, { minLength: n, maxLength: n }),
        fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
        fc.nat(),
      ),
    )
    .map(([shapes, gaps, order, seed]) => {
      const strides = new Array<number>(shapes.length);
      let covered = 1;
      order.forEach((m, k) => {
        strides[m] = covered * gaps[k]!;
        covered = strides[m]! * shapes[m]!;
      });
      return nested(shapes, strides, seed);
    });
}

/** Injective, complementable layouts: extents 1-5, gaps of 1-3 times the extent below. */
export const injectiveLayout = stackedLayout(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }));

/** Injective layouts of powers of two: their modes cover disjoint bits, so they compose with any pow2Layout. */
export const pow2InjectiveLayout = stackedLayout(
  fc.integer({ min: 0, max: 3 }).map((e) => 2 ** e),
  fc.integer({ min: 0, max: 2 }).map((e) => 2 ** e),
);

/** Every index of a layout's domain. */
export function domain(l: { size: number }): number[] {
  return [...Array(l.size).keys()];
}

/**
 * A tuple tiler for `a` made of pow2 injective layouts and powers of two, nested (up to depth 2) where
 * a mode of `a` has sub-modes; each (sub-)tuple reaches the first 1..rank modes. With a pow2 `a`, every
 * divide and product by it is defined.
 */
export function pow2TilerFor(a: Layout, level = 0): fc.Arbitrary<Tiler[]> {
  return fc.integer({ min: 1, max: a.rank }).chain((n) => fc.tuple(...a.modes().slice(0, n).map((m) => pow2TileFor(m, level))));
}

function pow2TileFor(m: Layout, level: number): fc.Arbitrary<Tiler> {
  const choices: fc.Arbitrary<Tiler>[] = [pow2InjectiveLayout, fc.integer({ min: 0, max: 3 }).map((e) => 2 ** e)];
  if (Array.isArray(m.shape) && level < 2) choices.push(pow2TilerFor(m, level + 1));
  return fc.oneof(...choices);
}

/** The modes of `l` (a by-mode result for the tuple tiler `t`) that `t` reaches, nested as in `t`. */
export function reachedBy(l: Layout, t: readonly Tiler[]): Layout {
  return makeLayout(...t.map((ti, i) => (Array.isArray(ti) ? reachedBy(l.mode(i), ti) : l.mode(i))));
}
