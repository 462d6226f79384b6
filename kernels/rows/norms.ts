/**
 * Layer norm, RMS norm, and RMS norm fused with the residual add that precedes it in a transformer
 * block: one program per row of x [M, N] (N <= BLOCK_N; a longer row fails the launch: rowFits), or for layer
 * norm and RMS norm per ROWS rows, each read a row ahead (row.ts eachRow); in f32, one rounding to the
 * storage dtype at the store.
 */
import { type Dtype, type TensorArg, type Tile, f32, input, kernel, load, output, rsqrt, store, where } from '../../dsl/index.js';
import { type Row, eachRow, rowFits, rowOf, rowPrograms } from './row.js';

/** y = (x - mean) / sqrt(var + EPS) * w + b over each row (the biased variance). */
export function layerNormRows(d: Dtype) {
  return kernel(
    `layer_norm_${d.name}`,
    { x: input(d, ['M', 'N']), w: input(d, ['N']), b: input(d, ['N']), y: output(d, ['M', 'N']) },
    ({ x, w, b, y }, { BLOCK_N, EPS, ROWS }) => {
      eachRow(x, BLOCK_N, ROWS, loadRow(x), ({ row, cols, n, ok }, stored) => {
        const t = stored.to(f32);
        const count = n.to(f32);
        const mean = t.sum(0).div(count);
        const centered = where(ok, t.sub(mean), 0);
        const variance = centered.mul(centered).sum(0).div(count);
        const normalized = centered.mul(rsqrt(variance.add(EPS)));
        const out = normalized.mul(load(w, [cols], { mask: ok }).to(f32)).add(load(b, [cols], { mask: ok }).to(f32));
        store(y, [row, cols], out.to(d), { mask: ok });
      });
    },
    {
      // ROWS: rows per program, each read a row ahead (row.ts eachRow).
      params: { BLOCK_N: 8192, EPS: 1e-5, ROWS: 1 },
      grid: ({ M }, { ROWS }) => rowPrograms(M, ROWS),
      requires: rowFits,
      shapes: { M: 4096, N: 8192 },
      // On sm_90, three blocks of 256 threads per SM (75 registers, no spills): the H200 ran bf16 layer
      // norm over 4096 x 8192 at 1498 GB/s so, against 1394 with one block's bound (90 registers then,
      // two blocks fit), in one call (session 22). Not measured on other architectures.
      hints: ({ BLOCK_N, ROWS }) => (BLOCK_N <= 8192 && ROWS === 1 && d.bits === 16 ? { cuda: { perArch: { sm_90: { minBlocksPerSm: 3 } } } } : {}),
    },
  );
}

/** y = x / sqrt(mean(x²) + EPS) * w over each row. */
export function rmsNormRows(d: Dtype) {
  return kernel(
    `rms_norm_${d.name}`,
    { x: input(d, ['M', 'N']), w: input(d, ['N']), y: output(d, ['M', 'N']) },
    ({ x, w, y }, { BLOCK_N, EPS, ROWS }) => {
      eachRow(x, BLOCK_N, ROWS, loadRow(x), ({ row, cols, n, ok }, stored) => {
        store(y, [row, cols], rmsNormalized(stored.to(f32), n, load(w, [cols], { mask: ok }), EPS).to(d), { mask: ok });
      });
    },
    {
      // ROWS: rows per program, each read a row ahead (row.ts eachRow).
      params: { BLOCK_N: 8192, EPS: 1e-6, ROWS: 1 },
      grid: ({ M }, { ROWS }) => rowPrograms(M, ROWS),
      requires: rowFits,
      shapes: { M: 4096, N: 8192 },
      // Two blocks of 512 threads per SM (58 registers, no spills): the H100 ran bf16 RMS norm over
      // 4096 x 8192 at 1384 GB/s so, against 1252 at the default 256 threads (104 registers, two
      // blocks); 256 threads capped for three blocks was faster (1519) but spills 64 bytes (session 8).
      // (Measured for 16-bit storage only.) On sm_90 those three blocks of 256: the H200 ran it at 1984
      // GB/s so against 1734 with two of 512, spilling (session 22); with its bf16 row packed in
      // registers it takes 72 and spills none.
      hints: ({ BLOCK_N, ROWS }) =>
        BLOCK_N <= 8192 && ROWS === 1 && d.bits === 16 ? { cuda: { threads: 512, minBlocksPerSm: 2, perArch: { sm_90: { threads: 256, minBlocksPerSm: 3 } } } } : {},
    },
  );
}

/**
 * h = x + r (stored: the residual stream goes on), y = RMS norm of h times w. The sum is rounded to the
 * storage dtype before it is normalized, as when the add is a separate kernel: y is what the unfused
 * pair computes, from one read of x and r instead of three reads.
 */
export function rmsNormResidualRows(d: Dtype) {
  return kernel(
    `rms_norm_residual_${d.name}`,
    { x: input(d, ['M', 'N']), r: input(d, ['M', 'N']), w: input(d, ['N']), h: output(d, ['M', 'N']), y: output(d, ['M', 'N']) },
    ({ x, r, w, h, y }, { BLOCK_N, EPS }) => {
      const { row, cols, n, ok } = rowOf(x, BLOCK_N);
      const sum = load(x, [row, cols], { mask: ok }).to(f32).add(load(r, [row, cols], { mask: ok }).to(f32)).to(d);
      store(h, [row, cols], sum, { mask: ok });
      store(y, [row, cols], rmsNormalized(sum.to(f32), n, load(w, [cols], { mask: ok }), EPS).to(d), { mask: ok });
    },
    { params: { BLOCK_N: 8192, EPS: 1e-6 }, grid: ({ M }) => [M], requires: rowFits, shapes: { M: 4096, N: 8192 } },
  );
}

/** x's row: the tile eachRow carries from one row to the next (the stored values, zero past the row). */
const loadRow = (x: TensorArg) => ({ row, cols, ok }: Row) => load(x, [row, cols], { mask: ok });

/** t / sqrt(mean(t²) + eps) · w for a row t of n elements (zero past them), in f32. */
function rmsNormalized(t: Tile, n: Tile, w: Tile, eps: number): Tile {
  const meanSquare = t.mul(t).sum(0).div(n.to(f32));
  return t.mul(rsqrt(meanSquare.add(eps))).mul(w.to(f32));
}

/** The float64 references, row-major [m, n]. */
export function layerNormReference(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, eps = 1e-5): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    let mean = 0;
    for (let j = 0; j < n; j++) mean += x[i * n + j]!;
    mean /= n;
    let variance = 0;
    for (let j = 0; j < n; j++) variance += (x[i * n + j]! - mean) ** 2;
    variance /= n;
    for (let j = 0; j < n; j++) y[i * n + j] = ((x[i * n + j]! - mean) / Math.sqrt(variance + eps)) * w[j]! + b[j]!;
  }
  return y;
}

export function rmsNormReference(x: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, eps = 1e-6): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    let meanSquare = 0;
    for (let j = 0; j < n; j++) meanSquare += x[i * n + j]! ** 2;
    meanSquare /= n;
    for (let j = 0; j < n; j++) y[i * n + j] = (x[i * n + j]! / Math.sqrt(meanSquare + eps)) * w[j]!;
  }
  return y;
}
