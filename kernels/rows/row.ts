/**
 * What every row kernel starts with: program m handles row m of x [M, N] and y [M, N] (with eachRow,
 * rows m * ROWS to m * ROWS + ROWS - 1 in turn), holding a row's N columns in one tile of BLOCK_N
 * lanes (a longer row fails the launch: rowFits).
 */
import type { GridExpr, ShapeRequirement } from '../../compiler/ir/ir.js';
import { type TensorArg, type Tile, arange, atMost, cdiv, forRange, programId } from '../../dsl/index.js';

export interface Row {
  /** The row index (program m's row, or one of its ROWS rows). */
  readonly row: Tile;
  /** The lanes' column indices, [BLOCK_N]. */
  readonly cols: Tile;
  /** The row's length N. */
  readonly n: Tile;
  /** Which lanes hold a column of the row. */
  readonly ok: Tile;
}

/**
 * The row kernels' requirement (KernelOptions.requires): a row fits its tile. A longer one would be
 * half computed and its end left unwritten, which even `tskc run --check` would pass (the interpreter
 * runs the same program); the launch fails instead, naming N and BLOCK_N's value.
 */
export const rowFits = ({ N }: { readonly N: GridExpr }, { BLOCK_N }: { readonly BLOCK_N: number }): ShapeRequirement[] => [atMost(N, BLOCK_N)];

/** The row of `x` this program handles (the kernel requires rowFits). */
export function rowOf(x: TensorArg, blockN: number): Row {
  const row = programId(0);
  const cols = arange(blockN);
  const n = x.dim(1);
  return { row, cols, n, ok: cols.lt(n) };
}

/**
 * Rows of x [M, N] `rows` to a program: program p handles rows p * rows to p * rows + rows - 1 (those
 * below M) in turn, each row's tile (`load`, given the row) read one row ahead, so that its loads are
 * in flight while the row before it is reduced and stored; `body` gets each row and its tile. With
 * rows = 1, one row per program and no loop (rowOf). Why: a GPU block holding one whole row waits on
 * its loads, then reduces with the memory idle; the H200 ran the bf16 row kernels at 0.34-0.42 of the
 * copy's bandwidth and their row copies, without the reductions, at 0.76 (session 22). Triton's softmax
 * pipelines its rows the same way. The grid is then cdiv(M, rows). On the C backend it is slower: the
 * carried row is copied where a single row is read in place (softmax f32 4096x4096: 7.2 ms at 1 row a
 * program, 11.7 at 4), so the kernels' default stays 1.
 */
export function eachRow(x: TensorArg, blockN: number, rows: number, load: (r: Row) => Tile, body: (r: Row, t: Tile) => void): void {
  if (rows === 1) {
    const r = rowOf(x, blockN);
    body(r, load(r));
    return;
  }
  const first = programId(0).mul(rows);
  const cols = arange(blockN);
  const [m, n] = [x.dim(0), x.dim(1)];
  const inRow = cols.lt(n);
  const at = (row: Tile, on: Tile): Row => ({ row, cols, n, ok: inRow.and(on) });
  forRange(0, rows, 1, [load(at(first, first.lt(m)))], (i, [t]) => {
    const row = first.add(i);
    const next = row.add(1);
    // The next row of this program's, if there is one: not the first row of the next program's.
    const ahead = load(at(next, next.lt(m).and(i.add(1).lt(rows))));
    body(at(row, row.lt(m)), t!);
    return [ahead];
  });
}

/** The grid of eachRow's kernels: a program per `rows` rows of M. */
export const rowPrograms = (m: GridExpr, rows: number): GridExpr[] => [rows === 1 ? m : cdiv(m, rows)];
