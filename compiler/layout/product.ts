/**
 * Products: repeating a layout A (the tile) according to a layout B (the layout of the tiles).
 *
 * For A of shape (M, N, L, ...) and a tiler <TileM, TileN>:
 *   logicalProduct : ((M,TileM), (N,TileN), L, ...)
 *   zippedProduct  : ((M,N), (TileM,TileN,L,...))
 *   tiledProduct   : ((M,N), TileM, TileN, L, ...)
 * blockedProduct and rakedProduct are rank-sensitive: they pair like modes of A and B.
 */
import { type Tiler, byMode, composition, isTilerTuple, tilerLayout } from './composition.js';
import { complement } from './complement.js';
import { Layout, makeLayout } from './layout.js';
import { coalesce } from './coalesce.js';

/**
 * logicalProduct(A, B) = (A, complement(A, size(A)·cosize(B)) ∘ B): mode 0 is A, mode 1 places a
 * copy of A at each position B names, in units of whole copies. Post: mode 0 of the result equals A,
 * and mode 1 has B's shape.
 */
export function logicalProduct(a: Layout, b: Tiler): Layout {
  if (isTilerTuple(b)) return byMode(a, b, logicalProduct);
  const tiles = tilerLayout(b);
  return makeLayout(a, composition(complement(a, a.size * tiles.cosize), tiles));
}

/** Splits logicalProduct(A, <tiler>) into A's modes and the repetition modes (modes past the tiler go last). */
function tilesAndRepeats(a: Layout, b: readonly Tiler[]): { tiles: Layout[]; repeats: Layout[] } {
  const product = logicalProduct(a, b).modes();
  const tiles = product.slice(0, b.length).map((m) => m.mode(0));
  const repeats = [...product.slice(0, b.length).map((m) => m.mode(1)), ...product.slice(b.length)];
  return { tiles, repeats };
}

/** ((M,N), (TileM,TileN,L,...)); a single-layout tiler gives logicalProduct. */
export function zippedProduct(a: Layout, b: Tiler): Layout {
  if (!isTilerTuple(b)) return logicalProduct(a, b);
  const { tiles, repeats } = tilesAndRepeats(a, b);
  return makeLayout(makeLayout(...tiles), makeLayout(...repeats));
}

/** ((M,N), TileM, TileN, L, ...); a single-layout tiler gives (A, modes of the repetition...). */
export function tiledProduct(a: Layout, b: Tiler): Layout {
  if (!isTilerTuple(b)) {
    const product = logicalProduct(a, b);
    return makeLayout(product.mode(0), ...product.mode(1).modes());
  }
  const { tiles, repeats } = tilesAndRepeats(a, b);
  return makeLayout(makeLayout(...tiles), ...repeats);
}

/** A with 1:0 modes appended up to `r` modes. */
function padToRank(a: Layout, r: number): Layout {
  if (a.rank >= r) return a;
  return makeLayout(...a.modes(), ...Array.from({ length: r - a.rank }, () => new Layout(1, 0)));
}

/**
 * Pairs mode i of A with mode i of the repetition layout of logicalProduct(A, B) (both padded to the
 * larger rank), coalescing each pair; `aFirst` puts A's mode first (blocked), else last (raked).
 */
function pairedProduct(a: Layout, b: Layout, aFirst: boolean): Layout {
  const r = Math.max(a.rank, b.rank);
  const ap = padToRank(a, r);
  const repeats = logicalProduct(ap, padToRank(b, r)).mode(1);
  return makeLayout(
    ...ap.modes().map((am, i) => {
      const bm = repeats.mode(i);
      return coalesce(aFirst ? makeLayout(am, bm) : makeLayout(bm, am));
    }),
  );
}

/**
 * blockedProduct(A, B): mode i is (A_i, B_i), coalesced: A is a contiguous block, repeated as B
 * says. blockedProduct((2,5):(5,1), (3,4):(1,3)) = (6,(5,4)):(5,(1,30)).
 */
export function blockedProduct(a: Layout, b: Layout): Layout {
  return pairedProduct(a, b, true);
}

/**
 * rakedProduct(A, B): mode i is (B_i, A_i), coalesced: the copies of A are interleaved (a cyclic
 * distribution), each element of A repeated across B before the next.
 */
export function rakedProduct(a: Layout, b: Layout): Layout {
  return pairedProduct(a, b, false);
}
