/**
 * Row softmax and log-softmax: one program per row of x [M, N] (or per ROWS rows, each read a row
 * ahead: row.ts eachRow), the row (N <= BLOCK_N; a longer row fails the launch: rowFits) in registers,
 * computed in f32 whatever the storage dtype, one rounding to it at the store. Softmax multiplies by
 * the reciprocal of the sum (one more f32 rounding than a division).
 */
import { type Dtype, exp, f32, full, input, kernel, load, log, output, store } from '../../dsl/index.js';
import { type Row, eachRow, rowFits, rowPrograms } from './row.js';

const rowKernel = (name: string, d: Dtype, logOfIt: boolean) =>
  kernel(
    `${name}_${d.name}`,
    { x: input(d, ['M', 'N']), y: output(d, ['M', 'N']) },
    ({ x, y }, { BLOCK_N, ROWS }) => {
      const loadRow = ({ row, cols, ok }: Row) => load(x, [row, cols], { mask: ok, other: -Infinity });
      eachRow(x, BLOCK_N, ROWS, loadRow, ({ row, cols, ok }, stored) => {
        const t = stored.to(f32);
        const shifted = t.sub(t.max(0));
        const e = exp(shifted);
        // One division a row, then a product per element: a division per element was the most
        // expensive step of the H100 kernel, which issue slots, not bytes, bounded.
        const out = logOfIt ? shifted.sub(log(e.sum(0))) : e.mul(full([], 1, f32).div(e.sum(0)));
        store(y, [row, cols], out.to(d), { mask: ok });
      });
    },
    {
      // ROWS: rows per program, each read a row ahead (row.ts eachRow).
      params: { BLOCK_N: 8192, ROWS: 1 },
      grid: ({ M }, { ROWS }) => rowPrograms(M, ROWS),
      requires: rowFits,
      shapes: { M: 4096, N: 8192 },
      // Registers capped for 3 blocks of 256 threads per SM (80, no spills): the H100 ran bf16 softmax
      // over 4096 x 8192 at 1476 GB/s so, against 1220 with the 89 ptxas takes uncapped (session 8).
      // Not log-softmax (unmeasured; it spills 40 to 92 bytes under that cap), nor f32 (twice the bytes
      // per element: 2422 GB/s uncapped, 0.86 of copy; it spills 8 bytes for sm_80 under the cap).
      // On sm_90, 4 blocks (64 registers): the H200 ran it at 1920 GB/s so against 1740 with 3, though
      // it then spilled 8 bytes (session 22); with its bf16 row packed in registers it spills none.
      hints: ({ BLOCK_N, ROWS }) => (BLOCK_N <= 8192 && ROWS === 1 && !logOfIt && d.bits === 16 ? { cuda: { minBlocksPerSm: 3, perArch: { sm_90: { minBlocksPerSm: 4 } } } } : {}),
    },
  );

/** y[m, :] = exp(x[m, :] - max) / sum(exp(x[m, :] - max)). */
export const softmaxRows = (d: Dtype) => rowKernel('softmax', d, false);

/** y[m, :] = x[m, :] - max - log(sum(exp(x[m, :] - max))). */
export const logSoftmaxRows = (d: Dtype) => rowKernel('log_softmax', d, true);

/** The float64 references, row-major [m, n]. */
export function softmaxReference(x: ArrayLike<number>, m: number, n: number, logOfIt = false): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, x[i * n + j]!);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(x[i * n + j]! - max);
    for (let j = 0; j < n; j++) y[i * n + j] = logOfIt ? x[i * n + j]! - max - Math.log(sum) : Math.exp(x[i * n + j]! - max) / sum;
  }
  return y;
}
