import { type Dtype, bf16, bool, dtype, f16, f32, f8e4m3, i32, i8, u32, u8 } from '../../../compiler/ir/dtype.js';
import { roundToFormat } from '../../../compiler/ir/float-format.js';
import type { FloatDtype } from '../../../compiler/ir/dtype.js';
import { erf } from '../../../compiler/interpret/index.js';
import { randomInts, randomValues, runOp } from './harness.js';

const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 1, -1];
const N = 300;

/** The value of x rounded into float dtype d (what an input tensor holds). */
const r = (d: Dtype, x: number) => roundToFormat(d as FloatDtype, x);
const same = (got: ArrayLike<number>, want: ArrayLike<number>) => expect(Array.from(got)).toEqual(Array.from(want));

describe('unary float ops: float64 result rounded once', () => {
  const refs: Record<string, (x: number) => number> = {
    neg: (x) => -x,
    abs: Math.abs,
    exp: Math.exp,
    exp2: (x) => 2 ** x,
    log: Math.log,
    log2: Math.log2,
    sqrt: Math.sqrt,
    rsqrt: (x) => 1 / Math.sqrt(x),
    tanh: Math.tanh,
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  };
  for (const d of [f32, f16, bf16]) {
    test.each(Object.keys(refs))(`%s on ${d.name}`, (op) => {
      const xs = randomValues(N, -12, 12, SPECIALS).map((x) => r(d, x));
      const got = runOp(op as 'exp', [{ dtype: d, shape: [N], values: xs }]);
      same(got.values, xs.map((x) => r(d, refs[op]!(x))));
    });
  }
});

describe('erf', () => {
  test.each([
    [0.01, 0.011283415555849618],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [-1.5, -0.9661051464753107],
    [2, 0.9953222650189527],
    [3.5, 0.9999992569016276],
    [5, 0.9999999999984626],
  ])('erf(%d) = %d to 1e-15', (x, want) => {
    expect(Math.abs(erf(x) - want)).toBeLessThan(1e-15);
  });

  test('erf on f32 tiles rounds the float64 value once', () => {
    const xs = randomValues(N, -4, 4).map(Math.fround);
    same(runOp('erf', [{ dtype: f32, shape: [N], values: xs }]).values, xs.map((x) => Math.fround(erf(x))));
  });
});

describe('binary float ops', () => {
  const refs: Record<string, (a: number, b: number) => number> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    rem: (a, b) => a % b,
  };
  for (const d of [f32, f16, bf16, f8e4m3]) {
    test.each(Object.keys(refs))(`%s on ${d.name} is correctly rounded`, (op) => {
      const a = randomValues(N, -100, 100, SPECIALS).map((x) => r(d, x));
      const b = randomValues(N, -100, 100, [...SPECIALS].reverse()).map((x) => r(d, x));
      const got = runOp(op as 'add', [{ dtype: d, shape: [N], values: a }, { dtype: d, shape: [N], values: b }]);
      same(got.values, a.map((x, i) => r(d, refs[op]!(x, b[i]!))));
    });
  }

  test('max and min ignore a NaN operand and return the first of equal operands', () => {
    const a = [1, NaN, 2, NaN, -0, 0, -Infinity];
    const b = [2, 3, NaN, NaN, 0, -0, -Infinity];
    const run = (op: 'max' | 'min') => Array.from(runOp(op, [{ dtype: f32, shape: [7], values: a }, { dtype: f32, shape: [7], values: b }]).values);
    expect(run('max')).toEqual([2, 3, 2, NaN, -0, 0, -Infinity]);
    expect(run('min')).toEqual([1, 3, 2, NaN, -0, 0, -Infinity]);
  });
});

/** a op b in two's complement at d's width, computed with BigInt. */
function wrapBig(d: Dtype, x: bigint): number {
  const m = 1n << BigInt(d.bits);
  let v = ((x % m) + m) % m;
  if (d.kind === 'signed' && v >= m / 2n) v -= m;
  return Number(v);
}

describe('integer ops wrap, divide toward zero, and follow the RISC-V rules at zero', () => {
  const ints = [i32, u32, i8, u8, dtype('i3'), dtype('u5')];
  const refs: Record<string, (d: Dtype, a: bigint, b: bigint) => number> = {
    add: (d, a, b) => wrapBig(d, a + b),
    sub: (d, a, b) => wrapBig(d, a - b),
    mul: (d, a, b) => wrapBig(d, a * b),
    div: (d, a, b) => (b === 0n ? wrapBig(d, -1n) : wrapBig(d, a / b)),
    rem: (d, a, b) => (b === 0n ? Number(a) : wrapBig(d, a % b)),
    and: (d, a, b) => wrapBig(d, a & b),
    or: (d, a, b) => wrapBig(d, a | b),
    xor: (d, a, b) => wrapBig(d, a ^ b),
  };
  for (const d of ints) {
    test.each(Object.keys(refs))(`%s on ${d.name}`, (op) => {
      const [lo, hi] = [d.minValue, d.maxValue];
      const a = [lo, lo, hi, 0, Math.min(5, hi), ...randomInts(N, lo, hi)];
      const b = [-1 >= lo ? -1 : 1, 0, hi, 0, 0, ...randomInts(N, lo, hi)];
      const got = runOp(op as 'add', [{ dtype: d, shape: [a.length], values: a }, { dtype: d, shape: [b.length], values: b }]);
      same(got.values, a.map((x, i) => refs[op]!(d, BigInt(x), BigInt(b[i]!))));
    });
  }

  test('neg, abs and not', () => {
    const xs = [-128, -1, 0, 1, 127];
    same(runOp('neg', [{ dtype: i8, shape: [5], values: xs }]).values, [-128, 1, 0, -1, -127]);
    same(runOp('abs', [{ dtype: i8, shape: [5], values: xs }]).values, [-128, 1, 0, 1, 127]);
    same(runOp('not', [{ dtype: i8, shape: [5], values: xs }]).values, [127, 0, -1, -2, -128]);
    same(runOp('not', [{ dtype: bool, shape: [2], values: [0, 1] }]).values, [1, 0]);
  });
});

describe('comparisons', () => {
  test.each(['lt', 'le', 'gt', 'ge', 'eq', 'ne'])('%s follows IEEE (NaN compares false except ne)', (op) => {
    const a = [1, 2, 3, NaN, -0, ...randomValues(N, -5, 5).map(Math.fround)];
    const b = [2, 2, 2, NaN, 0, ...randomValues(N, -5, 5).map(Math.fround)];
    const f: Record<string, (x: number, y: number) => boolean> = {
      lt: (x, y) => x < y, le: (x, y) => x <= y, gt: (x, y) => x > y, ge: (x, y) => x >= y, eq: (x, y) => x === y, ne: (x, y) => x !== y,
    };
    const got = runOp(op as 'lt', [{ dtype: f32, shape: [a.length], values: a }, { dtype: f32, shape: [b.length], values: b }]);
    expect(got.dtype).toBe(bool);
    same(got.values, a.map((x, i) => Number(f[op]!(x, b[i]!))));
  });
});

describe('cast and bitcast', () => {
  test.each([
    ['f32', 'i8', [300.7, -1000, -3.9, 3.9, NaN, Infinity, -0.5], [127, -128, -3, 3, 0, 127, 0]],
    ['i32', 'u8', [300, -1, 255, 256], [44, 255, 255, 0]],
    ['i32', 'i8', [200, -129, 127], [-56, 127, 127]],
    ['f32', 'f16', [65519, 65520, 1 + 2 ** -11, 1 + 3 * 2 ** -11], [65504, Infinity, 1, 1 + 2 ** -9]],
    ['f32', 'f8e4m3', [1000, -1000, 0.3, NaN], [448, -448, 0.3125, NaN]],
    ['f32', 'bool', [0, -0, 2, NaN], [0, 0, 1, 1]],
    ['bool', 'f32', [0, 1], [0, 1]],
    ['u8', 'f32', [255, 0], [255, 0]],
  ])('%s -> %s', (from, to, xs, want) => {
    const got = runOp('cast', [{ dtype: dtype(from), shape: [xs.length], values: xs }], { dtype: to });
    same(got.values, want);
  });

  test('bitcast f32 <-> i32 moves the IEEE bits', () => {
    const xs = randomValues(N, -1e6, 1e6, [0, -0, Infinity, -Infinity, 1]).map(Math.fround);
    const view = new DataView(new ArrayBuffer(4));
    const bits = xs.map((x) => (view.setFloat32(0, x), view.getInt32(0)));
    same(runOp('bitcast', [{ dtype: f32, shape: [N], values: xs }], { dtype: 'i32' }).values, bits);
    same(runOp('bitcast', [{ dtype: i32, shape: [N], values: bits }], { dtype: 'f32' }).values, xs);
    same(runOp('bitcast', [{ dtype: i8, shape: [3], values: [-1, 56, -128] }], { dtype: 'f8e4m3' }).values, [NaN, 1, -0]);
  });
});
