/**
 * The WGSL backend's transcendentals against the interpreter (which rounds the exact value once), on
 * inputs where drivers' own functions go wrong: near 0 and 1, subnormal arguments and results, the
 * edges of overflow. Each within 4 units in the last place (of the smallest normal, for results below
 * it); NaN, infinities and zeros exactly.
 */
import { arange, dot, erf, exp, exp2, f32, input, kernel, load, log, log2, output, rsqrt, sigmoid, sqrt, store, tanh } from '../../../dsl/index.js';
import { freshSeed, rng } from '../../../examples/check.js';
import type { Tile } from '../../../dsl/index.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { webgpuOr } from './harness.js';

const { it } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the WGSL math tests');

const INPUTS = [
  0, -0, 1e-5, -1e-5, 1e-3, 0.1, 0.39, 0.41, 0.5, 0.9999999, 1, 1.0000001, 1.5, 2, 3.7, 9, 10, 20, 64, 87, 88.7, 88.8, 100,
  -0.5, -1, -3.7, -20, -87, -89, -100, -103.9, -104, -126, -140, -149, -150, 1e-40, 3e-39, 1.2e-38, 1e30, 3e38, Infinity, -Infinity, NaN,
];

const OPS: [string, (x: Tile) => Tile][] = [['exp', exp], ['exp2', exp2], ['log', log], ['log2', log2], ['sqrt', sqrt], ['rsqrt', rsqrt], ['tanh', tanh], ['erf', erf], ['sigmoid', sigmoid]];

const webgpu = device('webgpu');
const interp = device('interp');

describe('WGSL transcendentals', () => {
  it.each(OPS)('%s', async (name, op) => {
    const k = kernel(`math_${name}`, { x: input(f32, [INPUTS.length]), y: output(f32, [INPUTS.length]) }, ({ x, y }) => {
      const i = arange(INPUTS.length);
      store(y, [i], op(load(x, [i])));
    }, { grid: () => [1] }).build();
    const x = Tensor.fromValues(f32, [INPUTS.length], Float64Array.from(INPUTS));
    const [got, want] = [Tensor.empty(f32, [INPUTS.length]), Tensor.empty(f32, [INPUTS.length])];
    await (await webgpu.compile(k)).run({ x, y: got });
    await (await interp.compile(k)).run({ x, y: want });
    const [g, w] = [got.toValues(), want.toValues()];
    const wrong = INPUTS.flatMap((v, i) => {
      if (Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i]))) return [];
      const ulp = 2 ** -23 * Math.max(Math.abs(w[i]!), 2 ** -126);
      return Number.isFinite(w[i]) && Math.abs(g[i]! - w[i]!) <= 4 * ulp ? [] : [`${name}(${v}) = ${g[i]}, want ${w[i]}`];
    });
    expect(wrong).toEqual([]);
  });
});

describe('WGSL products and remainders at the edges of f32', () => {
  const rows = [
    [1e-40, 1e30], // a subnormal factor (frexp must see its true exponent)
    [2 ** -70 * (1 + 2 ** -10), 2 ** -70 * (1 + 2 ** -9 - 2 ** -19)], // a subnormal result, rounded once
    [3e38, 3e38, 1e-38, 1e-38], // beyond f32 on the way, back within it at the end
    [1, 3 * 2 ** -149], // fmod with a subnormal divisor
    [3e38, 2 ** -149],
  ];
  it('prod and rem match the interpreter', async () => {
    const k = kernel('edges', { x: input(f32, [rows.length, 4]), p: output(f32, [rows.length]), r: output(f32, [rows.length]) }, ({ x, p, r }) => {
      const i = arange(rows.length);
      const t = load(x, [i.reshape([rows.length, 1]).broadcastTo([rows.length, 4]), arange(4).reshape([1, 4]).broadcastTo([rows.length, 4])]);
      store(p, [i], t.prod(1));
      store(r, [i], load(x, [i, arange(rows.length).mul(0)]).rem(load(x, [i, arange(rows.length).mul(0).add(1)])));
    }, { grid: () => [1] }).build();
    const data = Float64Array.from(rows.flatMap((row) => [...row, 1, 1, 1, 1].slice(0, 4)));
    const outs = [];
    for (const d of [webgpu, interp]) {
      const [p, r] = [Tensor.empty(f32, [rows.length]), Tensor.empty(f32, [rows.length])];
      await (await d.compile(k)).run({ x: Tensor.fromValues(f32, [rows.length, 4], data), p, r });
      outs.push([Array.from(p.toValues()), Array.from(r.toValues())]);
    }
    expect(outs[0]).toEqual(outs[1]);
  });
});

describe("WGSL dot's multiply-add, rounded once (emulated where the device's fma is not fused)", () => {
  it('matches the interpreter bit for bit on factors and addends across the whole range of f32', async () => {
    // a [64, 1] · b [1, 64] + c [64, 64]: 4096 multiply-adds, one per element. Factors from subnormal to
    // near overflow; addends that cancel the rounded product (the residual shows a second rounding),
    // that nearly cancel it, that are far beyond or below it, infinite or zero (review: an infinite c with a
    // product that overflowed gave NaN, a cancelling one infinity, and factors past 1e30 rounded twice).
    const n = 64;
    const r = rng(freshSeed());
    const f = Math.fround;
    const factor = () => f((r() < 0.5 ? -1 : 1) * (1 + r()) * 2 ** Math.floor(r() * 250 - 140));
    const [a, b] = [Float64Array.from({ length: n }, factor), Float64Array.from({ length: n }, factor)];
    const c = Float64Array.from({ length: n * n }, (_, i) => {
      const p = a[Math.floor(i / n)]! * b[i % n]!;
      const pick = Math.floor(r() * 8);
      if (pick === 0) return f(-f(p));
      if (pick === 1) return f(-f(p) * (1 + (r() - 0.5) * 2 ** -20));
      if (pick === 2) return f(-p * 2 ** (Math.floor(r() * 60) - 30));
      if (pick === 3) return [Infinity, -Infinity, 0, -0][Math.floor(r() * 4)]!;
      if (pick === 4) return f((r() - 0.5) * 3e38);
      return factor();
    });
    const k = kernel('fma_edges', { a: input(f32, [n, 1]), b: input(f32, [1, n]), c: input(f32, [n, n]), y: output(f32, [n, n]) }, (t) => {
      const [rows, cols] = [arange(n).reshape([n, 1]).broadcastTo([n, n]), arange(n).reshape([1, n]).broadcastTo([n, n])];
      const zero = arange(n).mul(0);
      const x = load(t.a, [arange(n).reshape([n, 1]), zero.reshape([n, 1])]);
      const w = load(t.b, [zero.reshape([1, n]), arange(n).reshape([1, n])]);
      store(t.y, [rows, cols], dot(x, w, load(t.c, [rows, cols])));
    }, { grid: () => [1] }).build();
    const outs: Float64Array[] = [];
    for (const d of [webgpu, interp]) {
      const y = Tensor.empty(f32, [n, n]).fill(NaN);
      await (await d.compile(k)).run({ a: Tensor.fromValues(f32, [n, 1], a), b: Tensor.fromValues(f32, [1, n], b), c: Tensor.fromValues(f32, [n, n], c), y });
      outs.push(y.toValues());
    }
    const [g, w] = outs as [Float64Array, Float64Array];
    const wrong = Array.from(w, (v, i) => (Object.is(g[i], v) || (Number.isNaN(g[i]) && Number.isNaN(v)) ? '' : `${a[Math.floor(i / n)]} * ${b[i % n]} + ${c[i]} = ${g[i]}, want ${v}`)).filter((s) => s);
    expect(wrong).toEqual([]);
  });
});
