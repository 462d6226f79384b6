/**
 * The mma fragment layout (backends/simt/distribution.ts: fragmentDistribution, mmaFragment) against
 * the PTX ISA's m16n8k16 fragments, without a GPU: a model of each warp runs the register path's loops
 * (CudaEmitter.mmaDotInRegisters) with the emitter's own index expressions (rows, registers and the
 * staging of a and b), evaluated with numbers, and every thread must end holding acc + a @ b at the
 * elements its distribution says it holds: each fragment register taken as the two adjacent staged
 * codes ldmatrix delivers to it. Which lane points ldmatrix at which row, and the operand order of the
 * mma, are the emitted code's own: tests/backends/cuda/emulated.test.ts runs that code. The banks
 * ldmatrix's reads touch are counted here.
 */
import { type Distribution, distribute, fragmentDistribution, isRowSliceOf, mmaFragment, rowSlice } from '../../../backends/simt/distribution.js';

/** An index expression of mmaFragment with its names bound to numbers (only + and * of integers). */
function evaluate(expr: string, names: Record<string, number>): number {
  return Function(...Object.keys(names), `return ${expr};`)(...Object.values(names)) as number;
}

/** The tile element (row, col) of thread `tid`'s register r, by the distribution's own definition. */
function elementOf(d: Distribution, tid: number, r: number): [number, number] {
  const v = r % d.vec;
  const c = Math.floor(r / d.vec) % d.colIters;
  const i = Math.floor(r / (d.vec * d.colIters));
  return [i * d.groups + Math.floor(tid / d.lanes), (c * (d.lanes / d.replicas) + Math.floor((tid % d.lanes) / d.replicas)) * d.vec + v];
}

/** Small integers: every product and sum below is exact, so the order the hardware adds in is moot. */
function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  let s = seed;
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) % 7) - 3));
}

/**
 * Runs the register path for a [m, k] x [k, n] dot on `threads` threads: per warp, pair of row
 * iterations p, 16 of K and 8-column block c, the A, B and C fragments as PTX defines them for lane
 * 4g + t, taken from the tiles and registers through mmaFragment, multiplied, and written back.
 */
function runRegisterPath(m: number, n: number, k: number, threads: number, bMajor: 'n' | 'k'): void {
  const d = fragmentDistribution([m, n], threads)!;
  const [a, b, acc] = [randomMatrix(m, k, 1), randomMatrix(k, n, 2), randomMatrix(m, n, 3)];
  // a and b staged as the register path stages them (mmaFragment.staging).
  const staging = mmaFragment.staging(m, n, k, 2, bMajor);
  const [sa, sb] = [new Array<number>(m * staging.stride).fill(NaN), new Array<number>((staging.bytes - staging.b) / 2).fill(NaN)];
  a.forEach((cols, row) => cols.forEach((x, col) => (sa[evaluate(staging.a('row', 'col'), { row, col })] = x)));
  b.forEach((cols, row) => cols.forEach((x, col) => (sb[evaluate(staging.bAt('row', 'col'), { row, col })] = x)));
  // Each thread's registers, initialized from acc through the distribution.
  const regs = Array.from({ length: threads }, (_, tid) => Array.from({ length: d.regs }, (_, r) => {
    const [row, col] = elementOf(d, tid, r);
    return acc[row]![col]!;
  }));
  for (let w = 0; w < threads / 32; w++) {
    for (let p = 0; p < d.rowIters / 2; p++) {
      for (let kk = 0; kk < k; kk += 16) {
        for (let c = 0; c < d.colIters; c++) {
          // The mma's 16 x 16 A, 16 x 8 B and 16 x 8 C, assembled lane by lane as the fragments hold them.
          const A = Array.from({ length: 16 }, () => new Array<number>(16).fill(NaN));
          const B = Array.from({ length: 16 }, () => new Array<number>(8).fill(NaN));
          const C = Array.from({ length: 16 }, () => new Array<number>(8).fill(NaN));
          for (let lane = 0; lane < 32; lane++) {
            const [g, t, tid] = [lane >> 2, lane & 3, 32 * w + lane];
            const at = { p, w, g, c, t, kk };
            const [ra, rb] = [evaluate(mmaFragment.row(d, 'p', 0, 'w', 'g'), at), evaluate(mmaFragment.row(d, 'p', 1, 'w', 'g'), at)];
            // Each fragment register: two adjacent staged codes, the lower column (A) or row (B) first.
            const pair = (staged: number[], index: string, bound: Record<string, number>): [number, number] => [staged[evaluate(index, bound)]!, staged[evaluate(index, bound) + 1]!];
            for (const [mmaRow, row] of [[g, ra], [g + 8, rb]] as const) {
              for (const col of [2 * t, 2 * t + 8]) [A[mmaRow]![col], A[mmaRow]![col + 1]] = pair(sa, staging.a('row', 'kk + col'), { row, kk, col });
            }
            if (bMajor === 'n') for (const kr of [2 * t, 2 * t + 8]) [B[kr]![g], B[kr + 1]![g]] = pair(sb, staging.bAt('kk + kr', '8 * c + g'), { kk, kr, c, g });
            else {
              // ldmatrix.trans: lane r8 of matrix q (b0: q = 0, b1: q = 1) points at the row the emitter
              // gives it (CudaEmitter.mmaOnStaged); lane 4g + t receives the codes at rows 2t and 2t + 1
              // of column g of that 8 x 8 block.
              const rowOf = (q: number, r8: number) => evaluate(staging.bAt('kk + 8 * (q & 1) + r8', '8 * c'), { kk, q, r8, c });
              for (const q of [0, 1]) [B[8 * q + 2 * t]![g], B[8 * q + 2 * t + 1]![g]] = [sb[rowOf(q, 2 * t) + g]!, sb[rowOf(q, 2 * t + 1) + g]!];
            }
            ([0, 1, 2, 3] as const).forEach((s) => (C[s < 2 ? g : g + 8]![2 * t + (s & 1)] = regs[tid]![evaluate(mmaFragment.register(d, 'p', 'c', s), at)]!));
          }
          for (let lane = 0; lane < 32; lane++) {
            const [g, t, tid] = [lane >> 2, lane & 3, 32 * w + lane];
            ([0, 1, 2, 3] as const).forEach((s) => {
              const [i, j] = [s < 2 ? g : g + 8, 2 * t + (s & 1)];
              let sum = C[i]![j]!;
              for (let q = 0; q < 16; q++) sum += A[i]![q]! * B[q]![j]!;
              regs[tid]![evaluate(mmaFragment.register(d, 'p', 'c', s), { p, w, g, c })] = sum;
            });
          }
        }
      }
    }
  }
  for (let tid = 0; tid < threads; tid++) {
    for (let r = 0; r < d.regs; r++) {
      const [row, col] = elementOf(d, tid, r);
      let want = acc[row]![col]!;
      for (let q = 0; q < k; q++) want += a[row]![q]! * b[q]![col]!;
      if (regs[tid]![r] !== want) throw new Error(`thread ${tid} register ${r} (element ${row}, ${col}): ${regs[tid]![r]}, want ${want}`);
    }
  }
}

describe('mma fragment layout', () => {
  test.each([
    [64, 64, 32, 128],
    [64, 64, 16, 32],
    [128, 128, 32, 128],
    [128, 64, 64, 256],
    [32, 8, 16, 64],
  ])('the register path computes acc + a @ b for [%i, %i] x K=%i on %i threads, b n-major and k-major', (m, n, k, threads) => {
    expect(() => runRegisterPath(m, n, k, threads, 'n')).not.toThrow();
    expect(() => runRegisterPath(m, n, k, threads, 'k')).not.toThrow();
  });

  test.each([
    [64, 64, 32, 128, 2],
    [128, 128, 16, 256, 2],
    [64, 32, 64, 32, 2],
    [128, 64, 48, 128, 2],
    [64, 24, 32, 128, 2], // an odd number of 8-column blocks: k-major b's rows unpadded
    // tf32: f32 elements, 8 of K to an mma, 4 to a 16-byte row of an ldmatrix block.
    [64, 64, 32, 128, 4],
    [128, 128, 8, 256, 4],
    [64, 32, 24, 32, 4],
  ])('each 8-row read of ldmatrix ([%i, %i] x K=%i on %i threads, %i-byte elements) touches 32 distinct banks of shared memory', (m, n, k, threads, bytes) => {
    const d = fragmentDistribution([m, n], threads)!;
    const staging = mmaFragment.staging(m, n, k, bytes);
    const half = 16 / bytes;
    // The four 4-byte banks of the 16 bytes from element index i of the b staging (at byte staging.b) or the a staging (at 0).
    const banks = (i: number, base: number) => [0, 1, 2, 3].map((word) => (Math.floor((base + bytes * i) / 4) + word) % 32);
    // The rows lanes 8q to 8q + 7 point at (CudaEmitter.mmaOnStaged): A's rows of mma half q & 1 at
    // K columns kk + half (q >> 1); b's (transposed) rows of column block c + (q >> 1) at kk + half (q & 1).
    for (let w = 0; w < threads / 32; w++) {
      for (let p = 0; p < d.rowIters / 2; p++) {
        for (let kk = 0; kk < k; kk += 2 * half) {
          for (let q = 0; q < 4; q++) {
            const rows = Array.from({ length: 8 }, (_, r8) => r8);
            const a = rows.flatMap((r8) => banks(evaluate(staging.a(mmaFragment.row(d, 'p', '(q & 1)', 'w', 'r8'), `kk + ${half} * (q >> 1)`), { p, q, w, r8, kk }), 0));
            expect(new Set(a).size).toBe(32);
            for (let c = 0; c + (q >> 1) < d.colIters; c += 2) {
              const b = rows.flatMap((r8) => banks(evaluate(staging.bAt(`kk + ${half} * (q & 1)`, '8 * (c + (q >> 1)) + r8'), { c, q, r8, kk }), staging.b));
              expect(new Set(b).size).toBe(32);
              // b k-major (16-bit only), read by ldmatrix.trans: K rows kk + 8 (q & 1) + r8 of column block c + (q >> 1).
              if (bytes !== 2) continue;
              const kMajor = mmaFragment.staging(m, n, k, bytes, 'k');
              const bk = rows.flatMap((r8) => banks(evaluate(kMajor.bAt('kk + 8 * (q & 1) + r8', '8 * (c + (q >> 1))'), { c, q, r8, kk }), kMajor.b));
              expect(new Set(bk).size).toBe(32);
            }
          }
        }
      }
    }
  });

  test('it is the shape-determined family with 2 elements to a chunk and 4 threads to a row', () => {
    const d = fragmentDistribution([64, 64], 128)!;
    expect(d).toEqual({ ...distribute([64, 64], 128, 2), lanes: 4, groups: 32, rowIters: 2, colIters: 8, regs: 32 });
  });

  // The CUDA emitter's reduction along the rows of a fragment tile keeps each thread's row results
  // (register i: row iteration i), and the broadcast back reads register r / (colIters * vec).
  test.each([
    [64, 64, 128],
    [32, 32, 64],
    [32, 128, 64],
    [128, 64, 256],
  ])('its row slice ([%i, %i] on %i threads) holds, in every lane of a row, the rows the thread holds in the fragments', (m, n, threads) => {
    const d = fragmentDistribution([m, n], threads)!;
    const slice = rowSlice(d);
    expect(slice.regs).toBe(d.rowIters);
    for (let tid = 0; tid < threads; tid++) {
      for (let r = 0; r < d.regs; r++) {
        const [row] = elementOf(d, tid, r);
        expect(elementOf(slice, tid, Math.floor(r / (d.colIters * d.vec)))).toEqual([row, 0]);
      }
    }
    expect(isRowSliceOf(slice, d)).toBe(true);
    expect(isRowSliceOf(distribute([m, 1], threads), d)).toBe(false);
  });

  test('a row slice of a layout whose rows are one lane each is the plain layout of [rows, 1]', () => {
    const d = distribute([40, 8], 64);
    expect(d.lanes).toBe(1);
    expect(isRowSliceOf(distribute([40, 1], 64), d)).toBe(true);
    expect(isRowSliceOf(distribute([40, 1], 64), distribute([40, 64], 64))).toBe(false);
  });

  test('it does not exist where the rows do not split into pairs of row iterations, or the columns into 8s', () => {
    expect(fragmentDistribution([64, 64], 256)).toBeUndefined(); // 64 row groups: one row iteration
    expect(fragmentDistribution([64, 12], 128)).toBeUndefined();
    expect(fragmentDistribution([64], 128)).toBeUndefined();
    expect(fragmentDistribution([96, 64], 128)).toBeUndefined(); // 3 row iterations
  });
});
