/**
 * Tilers: a layout applied to a layout mode by mode (CuTe's Tile<...>), and the unzipping of a
 * by-mode result into its first and second parts that zipped/tiled/flat divides and products share.
 */
import { LayoutError } from './errors.js';
import { MAX_DEPTH, describeValue } from './int-tuple.js';
import { Layout, makeLayout } from './layout.js';

/**
 * A tiler is a layout, an integer n (standing for n:1), or a tuple of tilers applied to the modes of
 * a layout one by one (CuTe's Tile<...>); modes past the tuple's length are left alone.
 */
export type Tiler = Layout | number | readonly Tiler[];

export function isTilerTuple(t: Tiler): t is readonly Tiler[] {
  return Array.isArray(t);
}

/** Throws 'invalid-argument' unless `t` is a tiler: a Layout, a positive integer, or a non-empty tuple of tilers. */
export function checkTiler(t: unknown, what: string, level = 0): asserts t is Tiler {
  if (t instanceof Layout) return;
  if (typeof t === 'number' && Number.isSafeInteger(t) && t >= 1) return;
  if (Array.isArray(t) && t.length > 0 && level < MAX_DEPTH) {
    for (const e of t) checkTiler(e, what, level + 1);
    return;
  }
  throw new LayoutError('invalid-argument', `${what} needs a tiler (a Layout, a positive integer or a non-empty tuple of tilers), got ${describeValue(t)}`);
}

/** The layout a non-tuple tiler stands for. */
export function tilerLayout(t: Layout | number): Layout {
  return typeof t === 'number' ? new Layout(t, 1) : t;
}

/**
 * Applies `op` to mode i of `a` and element i of the tuple tiler `t`, keeping the modes of `a` that
 * the tiler does not reach. The shared skeleton of by-mode composition, divides and products.
 */
export function byMode(a: Layout, t: readonly Tiler[], op: (mode: Layout, tile: Tiler) => Layout): Layout {
  if (t.length > a.rank) {
    throw new LayoutError('rank-mismatch', `a tiler of rank ${t.length} applied to ${a} of rank ${a.rank}`);
  }
  return makeLayout(...a.modes().map((m, i) => (i < t.length ? op(m, t[i]!) : m)));
}

/**
 * Splits `l`, the by-mode result of a divide or product by the tuple tiler `t`, into its first parts
 * (the tiles) and second parts (the rests or repetitions), as CuTe's zip2_by does. Mode i of `l` for a
 * non-tuple t[i] is a pair (first, second); for a tuple t[i] it is split the same way, recursively, and
 * contributes (its firsts) and (its seconds). Modes past a (sub-)tiler's length belong to the second part.
 * Post: first has t.length layouts; second has rank(l) layouts.
 */
export function unzip(l: Layout, t: readonly Tiler[]): { first: Layout[]; second: Layout[] } {
  const first: Layout[] = [];
  const second: Layout[] = [];
  l.modes().forEach((m, i) => {
    const ti = t[i];
    if (ti === undefined) {
      second.push(m);
    } else if (isTilerTuple(ti)) {
      const inner = unzip(m, ti);
      first.push(makeLayout(...inner.first));
      second.push(makeLayout(...inner.second));
    } else {
      first.push(m.mode(0));
      second.push(m.mode(1));
    }
  });
  return { first, second };
}
