/**
 * Division: splitting a layout into tiles (the tiler) and the layout of those tiles (the rest).
 *
 * For A of shape (M, N, L, ...) and a tiler <TileM, TileN>:
 *   logicalDivide : ((TileM,RestM), (TileN,RestN), L, ...)
 *   zippedDivide  : ((TileM,TileN), (RestM,RestN,L,...))
 *   tiledDivide   : ((TileM,TileN), RestM, RestN, L, ...)
 *   flatDivide    : (TileM, TileN, RestM, RestN, L, ...)
 * A tiler that is a single layout divides A as a whole (A seen as 1-D) into (Tile, Rest); then
 * zippedDivide is logicalDivide, and tiledDivide and flatDivide give (Tile, modes of Rest...).
 */
import { type Tiler, byMode, composition, isTilerTuple, tilerLayout } from './composition.js';
import { complement } from './complement.js';
import { Layout, makeLayout } from './layout.js';

/**
 * logicalDivide(A, B) = A ∘ (B, complement(B, size(A))): mode 0 is A restricted to the tile B,
 * mode 1 walks the tiles. Post: mode 0 of the result equals composition(A, B), and the result is
 * A with its domain permuted (same image, size(A) rounded up to whole tiles).
 */
export function logicalDivide(a: Layout, b: Tiler): Layout {
  if (isTilerTuple(b)) return byMode(a, b, logicalDivide);
  const tile = tilerLayout(b);
  return composition(a, makeLayout(tile, complement(tile, a.size)));
}

/** Splits logicalDivide(A, <tiler>) into its tile modes and rest modes (the modes past the tiler are rest). */
function tilesAndRests(a: Layout, b: readonly Tiler[]): { tiles: Layout[]; rests: Layout[] } {
  const divided = logicalDivide(a, b).modes();
  const tiles = divided.slice(0, b.length).map((m) => m.mode(0));
  const rests = [...divided.slice(0, b.length).map((m) => m.mode(1)), ...divided.slice(b.length)];
  return { tiles, rests };
}

/** ((TileM,TileN), (RestM,RestN,L,...)). Post: mode 0 equals composition(A, B). */
export function zippedDivide(a: Layout, b: Tiler): Layout {
  if (!isTilerTuple(b)) return logicalDivide(a, b);
  const { tiles, rests } = tilesAndRests(a, b);
  return makeLayout(makeLayout(...tiles), makeLayout(...rests));
}

/** (Tile, modes of Rest...) for a tiler that is a single layout. */
function tileThenRestModes(a: Layout, b: Layout | number): Layout {
  const divided = logicalDivide(a, b);
  return makeLayout(divided.mode(0), ...divided.mode(1).modes());
}

/** ((TileM,TileN), RestM, RestN, L, ...). */
export function tiledDivide(a: Layout, b: Tiler): Layout {
  if (!isTilerTuple(b)) return tileThenRestModes(a, b);
  const { tiles, rests } = tilesAndRests(a, b);
  return makeLayout(makeLayout(...tiles), ...rests);
}

/** (TileM, TileN, RestM, RestN, L, ...). */
export function flatDivide(a: Layout, b: Tiler): Layout {
  if (!isTilerTuple(b)) return tileThenRestModes(a, b);
  const { tiles, rests } = tilesAndRests(a, b);
  return makeLayout(...tiles, ...rests);
}
