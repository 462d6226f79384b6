/**
 * Division: splitting a layout into tiles (the tiler) and the layout of those tiles (the rest).
 *
 * For A of shape (M, N, L, ...) and a tiler <TileM, TileN>:
 *   logicalDivide : ((TileM,RestM), (TileN,RestN), L, ...)
 *   zippedDivide  : ((TileM,TileN), (RestM,RestN,L,...))
 *   tiledDivide   : ((TileM,TileN), RestM, RestN, L, ...)
 *   flatDivide    : (TileM, TileN, RestM, RestN, L, ...)
 * A tiler element may itself be a tuple (a nested tiler, <<TileM0,TileM1>, TileN>): it divides that
 * mode of A by mode, and its tiles join the tile part and its rests (with the sub-modes it does not
 * reach) the rest part, as in CuTe.
 *
 * A tiler that is a single layout divides A as a whole (A seen as 1-D) into (Tile, Rest); then
 * zippedDivide is logicalDivide, tiledDivide gives (Tile, modes of Rest...), and flatDivide, like
 * CuTe's flat_divide, (modes of Tile..., modes of Rest...).
 */
import { complement } from './complement.js';
import { composition } from './composition.js';
import { Layout, checkLayout, makeLayout } from './layout.js';
import { type Tiler, byMode, checkTiler, isTilerTuple, tilerLayout, unzip } from './tiler.js';

/**
 * logicalDivide(A, B) = A ∘ (B, complement(B, size(A))): mode 0 is A restricted to the tile B,
 * mode 1 walks the tiles, as many as it takes to cover size(A) (rounded up to whole tiles).
 * Post: mode 0 of the result equals composition(A, B). When B and its repetitions tile [0, size(A))
 * exactly, the result is A with its domain permuted (the same offsets); otherwise its last tiles run
 * past size(A), along A's unbounded last mode, and it reaches offsets A does not.
 */
export function logicalDivide(a: Layout, b: Tiler): Layout {
  checkLayout(a, 'logicalDivide');
  checkTiler(b, 'logicalDivide');
  if (isTilerTuple(b)) return byMode(a, b, logicalDivide);
  const tile = tilerLayout(b);
  return composition(a, makeLayout(tile, complement(tile, a.size)));
}

/**
 * ((TileM,TileN), (RestM,RestN,L,...)). Post: mode 0 holds the tiles the tiler's modes select (the modes
 * of composition(A, B) the tiler reaches), and every mode of A the tiler does not reach, at any depth of
 * a nested tiler, goes to the rest, as in CuTe: with A = ((3,6),2):((4,1),1) and the tiler [[4]], mode 0
 * is ((4)):((4)) and the 6 of the first mode is rest.
 */
export function zippedDivide(a: Layout, b: Tiler): Layout {
  const divided = logicalDivide(a, b);
  if (!isTilerTuple(b)) return divided;
  const { first, second } = unzip(divided, b);
  return makeLayout(makeLayout(...first), makeLayout(...second));
}

/** ((TileM,TileN), RestM, RestN, L, ...); a single-layout tiler gives (Tile, modes of Rest...). */
export function tiledDivide(a: Layout, b: Tiler): Layout {
  const divided = logicalDivide(a, b);
  if (!isTilerTuple(b)) return makeLayout(divided.mode(0), ...divided.mode(1).modes());
  const { first, second } = unzip(divided, b);
  return makeLayout(makeLayout(...first), ...second);
}

/** (TileM, TileN, RestM, RestN, L, ...); a single-layout tiler gives (modes of Tile..., modes of Rest...). */
export function flatDivide(a: Layout, b: Tiler): Layout {
  const divided = logicalDivide(a, b);
  if (!isTilerTuple(b)) return makeLayout(...divided.mode(0).modes(), ...divided.mode(1).modes());
  const { first, second } = unzip(divided, b);
  return makeLayout(...first, ...second);
}
