import { f16, f32, i32, i8 } from '../../../compiler/ir/dtype.js';
import { randomInts, randomValues, runOp } from './harness.js';

const same = (got: ArrayLike<number>, want: ArrayLike<number>) => expect(Array.from(got)).toEqual(Array.from(want));

/** Row-major element (i, j) of an [m, n] array. */
const at2 = (xs: ArrayLike<number>, n: number, i: number, j: number) => xs[i * n + j]!;

describe('reduce', () => {
  const [m, n] = [7, 13];
  const xs = randomValues(m * n, -10, 10).map(Math.fround);
  const x = { dtype: f32, shape: [m, n], values: xs };
  const rows = (f: (row: number[]) => number) => Array.from({ length: m }, (_, i) => f(Array.from({ length: n }, (_, j) => at2(xs, n, i, j))));
  const cols = (f: (col: number[]) => number) => Array.from({ length: n }, (_, j) => f(Array.from({ length: m }, (_, i) => at2(xs, n, i, j))));
  const sum = (v: number[]) => Math.fround(v.reduce((a, b) => a + b, 0));
  const prod = (v: number[]) => Math.fround(v.reduce((a, b) => a * b, 1));
  const argmax = (v: number[]) => v.indexOf(Math.max(...v));
  const argmin = (v: number[]) => v.indexOf(Math.min(...v));

  test.each([
    ['sum', sum],
    ['prod', prod],
    ['max', (v: number[]) => Math.max(...v)],
    ['min', (v: number[]) => Math.min(...v)],
    ['argmax', argmax],
    ['argmin', argmin],
  ] as const)('%s along each axis, accumulated in float64 and rounded once', (kind, f) => {
    const along1 = runOp('reduce', [x], { kind, axis: 1 });
    expect(along1.shape).toEqual([m]);
    same(along1.values, rows(f));
    const along0 = runOp('reduce', [x], { kind, axis: 0, keepDims: true });
    expect(along0.shape).toEqual([1, n]);
    same(along0.values, cols(f));
  });

  test('argmax skips NaN and takes the first of equal maxima; integer sums wrap', () => {
    same(runOp('reduce', [{ dtype: f32, shape: [5], values: [NaN, 3, 7, 7, 1] }], { kind: 'argmax', axis: 0 }).values, [2]);
    same(runOp('reduce', [{ dtype: f32, shape: [2], values: [NaN, NaN] }], { kind: 'argmax', axis: 0 }).values, [0]);
    same(runOp('reduce', [{ dtype: i8, shape: [3], values: [100, 100, 100] }], { kind: 'sum', axis: 0 }).values, [44]);
    same(runOp('reduce', [{ dtype: f16, shape: [3], values: [60000, 60000, -60000] }], { kind: 'sum', axis: 0 }).values, [60000]);
  });
});

describe('shape ops', () => {
  const xs = randomInts(24, -50, 50);
  const x = { dtype: i32, shape: [2, 3, 4], values: xs };

  test('broadcast repeats extent-1 dims and adds leading ones', () => {
    const row = { dtype: i32, shape: [1, 3], values: [1, 2, 3] };
    same(runOp('broadcast', [row], { shape: [2, 2, 3] }).values, [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    same(runOp('broadcast', [{ dtype: i32, shape: [2, 1], values: [5, 6] }], { shape: [2, 3] }).values, [5, 5, 5, 6, 6, 6]);
  });

  test('view and reshape keep row-major order', () => {
    same(runOp('view', [x], { shape: [1, 2, 3, 1, 4] }).values, xs);
    same(runOp('reshape', [x], { shape: [6, 4] }).values, xs);
  });

  test('permute moves dims: out[i, j, k] = x[k, i, j] for perm [2, 0, 1]', () => {
    const got = runOp('permute', [x], { perm: [2, 0, 1] });
    expect(got.shape).toEqual([4, 2, 3]);
    const want: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) want.push(xs[j * 12 + k * 4 + i]!);
    same(got.values, want);
  });

  test('where, arange and const', () => {
    const c = { dtype: i32, shape: [4], values: [0, 1, 2, 3] };
    const cond = runOp('lt', [c, { dtype: i32, shape: [4], values: [2, 2, 2, 2] }]);
    same(
      runOp('where', [{ dtype: cond.dtype, shape: [4], values: cond.values }, { dtype: f32, shape: [4], values: [1, 2, 3, 4] }, { dtype: f32, shape: [4], values: [-1, -2, -3, -4] }]).values,
      [1, 2, -3, -4],
    );
    same(runOp('arange', [], { start: 3, end: 7 }).values, [3, 4, 5, 6]);
    same(runOp('const', [], { value: -Infinity, dtype: 'f32' }).values, [-Infinity]);
    same(runOp('const', [], { value: 0.1, dtype: 'f16' }).values, [0.0999755859375]);
  });
});

describe('dot', () => {
  test('f32: acc + a @ b with one f32 fused multiply-add per k, in index order', () => {
    const [m, k, n] = [5, 9, 3];
    const a = randomValues(m * k, -1, 1).map(Math.fround);
    const b = randomValues(k * n, -1, 1).map(Math.fround);
    const acc = randomValues(m * n, -1, 1).map(Math.fround);
    const want = Array.from({ length: m * n }, (_, o) => {
      const [i, j] = [Math.floor(o / n), o % n];
      // a * b is exact in float64; the sum of it and an f32 rounds to nearest in float64 and then to
      // f32, which is one rounding unless float64 lands on an f32 midpoint (vanishingly rare here).
      let s = acc[o]!;
      for (let kk = 0; kk < k; kk++) s = Math.fround(s + a[i * k + kk]! * b[kk * n + j]!);
      return s;
    });
    const got = runOp('dot', [
      { dtype: f32, shape: [m, k], values: a },
      { dtype: f32, shape: [k, n], values: b },
      { dtype: f32, shape: [m, n], values: acc },
    ]);
    same(got.values, want);
  });

  test('i8 inputs accumulate exactly in i32', () => {
    const got = runOp('dot', [
      { dtype: i8, shape: [1, 3], values: [-128, 127, 5] },
      { dtype: i8, shape: [3, 1], values: [-128, 127, -3] },
      { dtype: i32, shape: [1, 1], values: [7] },
    ]);
    same(got.values, [7 + 16384 + 16129 - 15]);
  });
});
