/**
 * Products: repeating a layout A (the tile) according to a layout B (the layout of the tiles).
 *
 * For A of shape (M, N, L, ...) and a tiler <TileM, TileN>:
 *   logicalProduct : ((M,TileM), (N,TileN), L, ...)
 *   zippedProduct  : ((M,N), (TileM,TileN,L,...))
 *   tiledProduct   : ((M,N), TileM, TileN, L, ...)
 * A nested tiler element multiplies that mode of A by mode, and is unzipped the same way (see
 * tiler.ts). blockedProduct and rakedProduct are rank-sensitive: they pair like modes of A and B.
 */
import { coalesce } from './coalesce.js';
import { complement } from './complement.js';
import { composition } from './composition.js';
import { Layout, checkLayout, makeLayout } from './layout.js';
import { type Tiler, byMode, checkTiler, isTilerTuple, tilerLayout, unzip } from './tiler.js';

/**
 * logicalProduct(A, B) = (A, complement(A, size(A)·cosize(B)) ∘ B): mode 0 is A, mode 1 places a
 * copy of A at each position B names, in units of whole copies. Post: mode 0 of the result equals A,
 * mode 1 has B's shape with its modes possibly refined (logicalProduct(2:2, 4:1) = (2,(2,2)):(2,(1,4)), as
 * in CuTe), and P(i, j) = A(i) + P(0, j), the shifts P(0, j) growing with B(j), so the
 * copies are disjoint when A and B are injective.
 */
export function logicalProduct(a: Layout, b: Tiler): Layout {
  checkLayout(a, 'logicalProduct');
  checkTiler(b, 'logicalProduct');
  if (isTilerTuple(b)) return byMode(a, b, logicalProduct);
  const tiles = tilerLayout(b);
  return makeLayout(a, composition(complement(a, a.size * tiles.cosize), tiles));
}

/**
 * ((M,N), (TileM,TileN,L,...)); a single-layout tiler gives logicalProduct. Post: mode 0 is made of
 * the modes of A the tiler reaches, so it is A when the tiler reaches every mode, nested ones included.
 */
export function zippedProduct(a: Layout, b: Tiler): Layout {
  const product = logicalProduct(a, b);
  if (!isTilerTuple(b)) return product;
  const { first, second } = unzip(product, b);
  return makeLayout(makeLayout(...first), makeLayout(...second));
}

/** ((M,N), TileM, TileN, L, ...); a single-layout tiler gives (A, modes of the repetition...). */
export function tiledProduct(a: Layout, b: Tiler): Layout {
  const product = logicalProduct(a, b);
  if (!isTilerTuple(b)) return makeLayout(product.mode(0), ...product.mode(1).modes());
  const { first, second } = unzip(product, b);
  return makeLayout(makeLayout(...first), ...second);
}

/** L as exactly `r` top-level modes: its modes, then 1:0 modes (an integer-shaped L becomes one mode). */
function withRank(l: Layout, r: number): Layout {
  return makeLayout(...l.modes(), ...Array.from({ length: r - l.rank }, () => new Layout(1, 0)));
}

/**
 * Pairs mode i of A with mode i of the repetition layout of logicalProduct(A, B), both given the
 * larger rank r, coalescing each pair; `aFirst` puts A's mode first (blocked), else last (raked).
 * B is given r top-level modes before the product, so that each mode of the repetitions stays whole
 * however the composition refines it.
 */
function pairedProduct(a: Layout, b: Layout, aFirst: boolean, what: string): Layout {
  checkLayout(a, what);
  checkLayout(b, what);
  const r = Math.max(a.rank, b.rank);
  const ar = withRank(a, r);
  const repeats = logicalProduct(ar, withRank(b, r)).mode(1);
  return makeLayout(
    ...ar.modes().map((am, i) => {
      const bm = repeats.mode(i);
      return coalesce(aFirst ? makeLayout(am, bm) : makeLayout(bm, am));
    }),
  );
}

/**
 * blockedProduct(A, B): rank max(rank A, rank B); mode i is (A_i, B_i), coalesced: A is a contiguous
 * block, repeated as B says. blockedProduct((2,5):(5,1), (3,4):(1,3)) = (6,(5,4)):(5,(1,30)).
 * Post: size is size(A)·size(B), and the offsets are distinct when A and B are injective.
 */
export function blockedProduct(a: Layout, b: Layout): Layout {
  return pairedProduct(a, b, true, 'blockedProduct');
}

/**
 * rakedProduct(A, B): rank max(rank A, rank B); mode i is (B_i, A_i), coalesced: the copies of A are
 * interleaved (a cyclic distribution), each element of A repeated across B before the next.
 * Post: size is size(A)·size(B), and the offsets are distinct when A and B are injective.
 */
export function rakedProduct(a: Layout, b: Layout): Layout {
  return pairedProduct(a, b, false, 'rakedProduct');
}
