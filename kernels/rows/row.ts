/**
 * What every row kernel starts with: program m handles row m of x [M, N] and y [M, N], holding its N
 * columns in one tile of BLOCK_N lanes (a longer row fails the launch: kernels/fits.ts).
 */
import { type TensorArg, type Tile, arange, programId } from '../../dsl/index.js';
import { requireFits } from '../fits.js';

export interface Row {
  /** The row index (program 0's id). */
  readonly row: Tile;
  /** The lanes' column indices, [BLOCK_N]. */
  readonly cols: Tile;
  /** The row's length N. */
  readonly n: Tile;
  /** Which lanes hold a column of the row. */
  readonly ok: Tile;
}

/** The row of `x` this program handles, checked to fit BLOCK_N (the launch fails through `y` otherwise). */
export function rowOf(x: TensorArg, y: TensorArg, blockN: number): Row {
  const row = programId(0);
  const cols = arange(blockN);
  const n = x.dim(1);
  requireFits(y, n, blockN, (c) => [row, c]);
  return { row, cols, n, ok: cols.lt(n) };
}
