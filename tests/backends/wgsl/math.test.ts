/**
 * The WGSL backend's transcendentals against the interpreter (which rounds the exact value once), on
 * inputs where drivers' own functions go wrong: near 0 and 1, subnormal arguments and results, the
 * edges of overflow. Each within 4 units in the last place (of the smallest normal, for results below
 * it); NaN, infinities and zeros exactly.
 */
import { arange, erf, exp, exp2, f32, input, kernel, load, log, log2, output, rsqrt, sigmoid, sqrt, store, tanh } from '../../../dsl/index.js';
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
