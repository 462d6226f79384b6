/** Cases the review found where the C backend and the interpreter disagreed. */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import { hostTensor } from '../../../compiler/interpret/index.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { arange, bf16, bool, erf, exp, f16, f32, i32, input, kernel, load, output, scalar, sharedTile, sigmoid, store, u32, u8, where } from '../../../dsl/index.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';
import { runBoth } from '../differential.js';

const testC = testWithCompiler('the C backend regression tests');
jest.setTimeout(120_000);
const cpu = device('cpu', { cache: new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-regress-'))) });
const interp = device('interp');

async function both(def: { build(): Parameters<typeof cpu.compile>[0] }, make: () => Record<string, Tensor | number>): Promise<[Float64Array[], Float64Array[]]> {
  const out: Float64Array[][] = [];
  for (const d of [cpu, interp]) {
    const args = make();
    (await d.compile(def.build())).launch(args);
    out.push(Object.values(args).filter((v): v is Tensor => v instanceof Tensor).map((t) => t.toValues()));
  }
  return [out[0]!, out[1]!];
}

describe('C backend regressions', () => {
  testC('float sums follow the interpreter\'s 16-lane order, bit for bit', async () => {
    const sum = kernel('cancel', { x: input(f32, [64]), y: output(f32, [1]) }, ({ x, y }) => {
      store(y, [arange(1)], load(x, [arange(64)]).sum(0).broadcastTo([1]));
    }, { grid: () => [1] });
    // Lane 0 holds elements 0, 16, 32, 48: 2^60 + 1 - 2^60 there is 0, but 1 in lane 1 survives.
    for (const [placed, expected] of [[[[0, 2 ** 60], [16, 1], [32, -(2 ** 60)]], 0], [[[0, 2 ** 60], [1, 1], [16, -(2 ** 60)]], 1]] as const) {
      const values = new Float64Array(64);
      for (const [at, v] of placed) values[at] = v;
      const [c, i] = await both(sum, () => ({ x: Tensor.fromValues(f32, [64], values), y: Tensor.empty(f32, [1]) }));
      expect(c).toEqual(i);
      expect(i[1]![0]).toBe(expected);
    }
  });

  testC('scalar arguments convert like the interpreter: saturated, NaN to 0', async () => {
    const k = kernel('scalar_arg', { s: scalar(i32), y: output(i32, [1]) }, ({ s, y }) => store(y, [arange(1)], s.broadcastTo([1])), { grid: () => [1] });
    for (const v of [3e9, -3e9, Infinity, -Infinity, NaN, 7.9, -7.9]) {
      const [c, i] = await both(k, () => ({ s: v, y: Tensor.empty(i32, [1]) }));
      expect(c).toEqual(i);
    }
  });

  testC('shared tiles start zeroed', async () => {
    const k = kernel('fresh_shared', { y: output(f32, [16]) }, ({ y }) => store(y, [arange(16)], sharedTile([16], f32).load()), { grid: () => [1] });
    const [c, i] = await both(k, () => ({ y: Tensor.fromHostTensor(hostTensor(f32, [16], new Array(16).fill(5))) }));
    expect(c).toEqual(i);
    expect(Array.from(c[0]!)).toEqual(new Array(16).fill(0));
  });

  testC('unsigned products wrap without overflowing (reduce prod on u32)', async () => {
    const k = kernel('u32_prod', { x: input(u32, [8]), y: output(u32, [1]) }, ({ x, y }) => {
      store(y, [arange(1)], load(x, [arange(8)]).prod(0).broadcastTo([1]));
    }, { grid: () => [1] });
    const [c, i] = await both(k, () => ({ x: Tensor.fromValues(u32, [8], new Array(8).fill(4294967295)), y: Tensor.empty(u32, [1]) }));
    expect(c).toEqual(i);
  });

  testC('tiles too large for a thread stack run (the block frame is on the heap)', async () => {
    const big = kernel('big_tile', { x: input(f32, ['N']), y: output(f32, ['N']) }, ({ x, y }) => {
      const i = arange(1 << 20);
      const ok = i.lt(x.dim(0));
      store(y, [i], load(x, [i], { mask: ok }).mul(2), { mask: ok });
    }, { grid: () => [1] });
    const [c, i] = await both(big, () => ({ x: Tensor.fromValues(f32, [1000], Array.from({ length: 1000 }, (_, k) => k)), y: Tensor.empty(f32, [1000]) }));
    expect(c).toEqual(i);
  });

  testC('a chain of 3000 single-use ops compiles (an expression 64 deep at most) and runs as the interpreter does', async () => {
    // Each op was inlined into the next, and building the 3000-deep expression overflowed the stack.
    const chain = kernel('long_chain', { x: input(f32, [64]), y: output(f32, [64]) }, ({ x, y }) => {
      let t = load(x, [arange(64)]);
      for (let k = 0; k < 3000; k++) t = k % 2 ? t.add(1) : t.mul(0.999);
      store(y, [arange(64)], t);
    }, { grid: () => [1] });
    const [c, i] = await both(chain, () => ({ x: Tensor.fromValues(f32, [64], Array.from({ length: 64 }, (_, k) => k - 30)), y: Tensor.empty(f32, [64]).fill(NaN) }));
    expect(c).toEqual(i);
  });

  // The 16-bit float fast paths of the prelude (decode by shift or rebias, encode by rounding the
  // double's bits) against the interpreter: every code, and values around every rounding boundary.
  testC.each([['bf16', bf16], ['f16', f16]] as const)('%s: every code decodes, and doubles round once to nearest even', async (_, d) => {
    const codes = Uint16Array.from({ length: 65536 }, (_, k) => k);
    const decode = kernel('decode16', { x: input(d, [65536]), y: output(f32, [65536]) }, ({ x, y }) => {
      const i = arange(65536);
      store(y, [i], load(x, [i]).to(f32));
    }, { grid: () => [1] });
    const [c1, i1] = await both(decode, () => ({ x: Tensor.fromStorage(d, [65536], codes.slice()), y: Tensor.empty(f32, [65536]) }));
    expect(c1[1]).toEqual(i1[1]);
    // a + b in double, rounded once: every pair of neighbouring codes plus a random partner.
    const add = kernel('add16', { a: input(d, [65536]), b: input(d, [65536]), y: output(d, [65536]) }, ({ a, b, y }) => {
      const i = arange(65536);
      store(y, [i], load(a, [i]).add(load(b, [i])));
    }, { grid: () => [1] });
    const r = rng(freshSeed());
    const partner = Uint16Array.from({ length: 65536 }, (_, k) => (r() < 0.5 ? (k + 1) & 0xffff : Math.floor(r() * 65536)));
    const [c2, i2] = await both(add, () => ({ a: Tensor.fromStorage(d, [65536], codes.slice()), b: Tensor.fromStorage(d, [65536], partner.slice()), y: Tensor.empty(d, [65536]) }));
    expect(c2[2]).toEqual(i2[2]);
    // f32 values of every exponent, and the halfway points between neighbouring codes.
    const values = Float64Array.from({ length: 65536 }, (_, k) => {
      if (k < 32768) return new Float32Array(Uint32Array.of(Math.floor(r() * 2 ** 32)).buffer)[0]!;
      const lo = new Float32Array(Uint32Array.of((k - 32768) << 17).buffer)[0]!;
      const hi = new Float32Array(Uint32Array.of(((k - 32768) << 17) + (1 << 16)).buffer)[0]!;
      return Math.fround((lo + hi) / 2);
    });
    const encode = kernel('encode16', { x: input(f32, [65536]), y: output(d, [65536]) }, ({ x, y }) => {
      const i = arange(65536);
      store(y, [i], load(x, [i]).to(d));
    }, { grid: () => [1] });
    const [c3, i3] = await both(encode, () => ({ x: Tensor.fromValues(f32, [65536], values), y: Tensor.empty(d, [65536]) }));
    expect(c3[1]).toEqual(i3[1]);
  });

  // Each was measured against its double counterpart over every float (bench/cpu/ulp.ts: exp 0.91
  // units of the exact value at most, sigmoid 2.41, erf 0.994 with fused multiply-adds and 1.32
  // without; NaN kept), and is within 1, 2 and 1 floats of the correctly rounded result, as the
  // interpreter's is. Here a fresh sample of each run: specials, the range where the function is not
  // yet constant (uniformly), and tiny arguments.
  const expSpecials = [0, -0, 1, -1, 88.72, 88.7228, 88.8, 88.9, -87.33, -103.9, -104, -104.5, Infinity, -Infinity, NaN, 1e-30, -1e-30];
  const erfSpecials = [0, -0, 1, -1, 0.99999994, 1.0000001, -1.0000001, 2.5, 3.9, 3.92, 4, 4.5, -4, 1e9, Infinity, -Infinity, NaN, 1e-30, -1e-30, 1e-45];
  const f32Transcendentals = [
    ['exp (tskc_expf)', exp, 1, expSpecials, [-110, 95]],
    ['sigmoid (tskc_sigmoidf)', sigmoid, 2, expSpecials, [-110, 95]],
    ['erf (tskc_erff)', erf, 1, erfSpecials, [-5, 5]],
  ] as const;
  for (const [name, op, units, specials, [lo, hi]] of f32Transcendentals) {
    testC(`f32 ${name} is within ${units} unit(s) in the last place over its whole range`, async () => {
      const k = kernel('transcendental_f32', { x: input(f32, [65536]), y: output(f32, [65536]) }, ({ x, y }) => {
        const i = arange(65536);
        store(y, [i], op(load(x, [i])));
      }, { grid: () => [1] });
      const r = rng(freshSeed());
      const values = Float64Array.from({ length: 65536 }, (_, j) => (j < specials.length ? specials[j]! : j % 2 ? Math.fround(lo + (hi - lo) * r()) : Math.fround((2 * r() - 1) * 2 ** (-40 + 48 * r()))));
      const [c, i] = await both(k, () => ({ x: Tensor.fromValues(f32, [65536], values), y: Tensor.empty(f32, [65536]) }));
      const bits = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0]!;
      let worst = 0;
      for (let j = 0; j < 65536; j++) {
        const [g, w] = [c[1]![j]!, i[1]![j]!];
        if (Number.isNaN(w)) expect(g).toBeNaN();
        else worst = Math.max(worst, Math.abs(bits(g) - bits(w)));
      }
      expect(worst).toBeLessThanOrEqual(units);
    });
  }

  // exp(x - max x) takes tskc_expf_nonpositive (compiler/ir/order.ts proves its argument <= 0): row 0
  // spans the arguments where exp is not yet 0 or 1 (subnormal results included), row 1 is all -inf
  // (NaN arguments), row 2 all NaN, row 3 NaN and -inf with one number.
  testC('f32 exp of x minus its row max is within 1 unit in the last place, NaN and -inf rows included', async () => {
    const n = 16384;
    const k = kernel('exp_shifted', { x: input(f32, [4, n]), y: output(f32, [4, n]) }, ({ x, y }) => {
      const [i, j] = [arange(4).expandDims(1).broadcastTo([4, n]), arange(n).expandDims(0).broadcastTo([4, n])];
      const t = load(x, [i, j]);
      store(y, [i, j], exp(t.sub(t.max(1, { keepDims: true }))));
    }, { grid: () => [1] });
    expect(emitC(k.build()).source).toMatch(/= tskc_expf_nonpositive\(/);
    const r = rng(freshSeed());
    const specials = [0, -0, -87.33, -103.9, -103.97, -104, -104.5, -1e-30, -1e-45, -Infinity, NaN];
    const values = new Float64Array(4 * n);
    for (let j = 0; j < n; j++) {
      values[j] = j < specials.length ? specials[j]! : j % 2 ? Math.fround(-110 * r()) : -Math.fround(2 ** (-40 + 48 * r()));
      values[n + j] = -Infinity;
      values[2 * n + j] = NaN;
      values[3 * n + j] = j === 77 ? -5 : j % 2 ? NaN : -Infinity;
    }
    const [c, i] = await both(k, () => ({ x: Tensor.fromValues(f32, [4, n], values), y: Tensor.empty(f32, [4, n]) }));
    const bits = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0]!;
    let [worst, tiny] = [0, 0];
    for (let j = 0; j < 4 * n; j++) {
      const [g, w] = [c[1]![j]!, i[1]![j]!];
      if (Number.isNaN(w)) expect([j, g]).toEqual([j, NaN]);
      else worst = Math.max(worst, Math.abs(bits(g) - bits(w)));
      if (w > 0 && w < 2 ** -126) tiny++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(tiny).toBeGreaterThan(0);
    expect(Array.from(i[1]!.subarray(3 * n + 76, 3 * n + 80))).toEqual([0, 1, 0, NaN]);
  });

  // Float max and min reductions start their lanes at -inf (+inf) and pass over NaNs with x86's maxps
  // (minps): rows of NaNs alone, of NaNs and infinities, of zeros of both signs in either order, of 37
  // elements (two 16-lane chunks and a tail), 16 (whole chunks alone) or 5 (the tail alone), bit for
  // bit with the interpreter, signs of zero included.
  testC.each([37, 16, 5])('f32 max and min of rows with NaNs, infinities and signed zeros, %i elements a row', async (n) => {
    const rows = 14;
    const k = kernel('minmax_rows', { x: input(f32, [rows, n]), y: output(f32, [rows, 4]) }, ({ x, y }) => {
      const [i, j] = [arange(rows).expandDims(1).broadcastTo([rows, n]), arange(n).expandDims(0).broadcastTo([rows, n])];
      const t = load(x, [i, j]);
      const r = arange(rows);
      // Along rows (axis 1), and along columns (axis 0) of the transposed view: both reduction loops.
      store(y, [r, arange(1).broadcastTo([rows])], t.max(1));
      store(y, [r, arange(1, 2).broadcastTo([rows])], t.min(1));
      store(y, [r, arange(2, 3).broadcastTo([rows])], t.permute(1, 0).max(0));
      store(y, [r, arange(3, 4).broadcastTo([rows])], t.permute(1, 0).min(0));
    }, { grid: () => [1] });
    const r = rng(freshSeed());
    const row = (f: (j: number) => number) => Array.from({ length: n }, (_, j) => f(j));
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    const values = [
      row(() => NaN),
      row((j) => (j % 3 ? NaN : -Infinity)),
      row((j) => (j % 2 ? NaN : Infinity)),
      row((j) => (j % 2 ? 0 : -0)),
      row((j) => (j % 2 ? -0 : 0)),
      row((j) => (j === n - 1 ? 0 : j % 2 ? NaN : -0)),
      row((j) => (j === n - 1 ? 7 : NaN)),
      row(() => pick([NaN, -0, 0, -1, 1, -Infinity, Infinity])),
      row(() => pick([NaN, -0, 0])),
      row(() => Math.fround((r() - 0.5) * 100)),
      row(() => (r() < 0.3 ? NaN : Math.fround((r() - 0.5) * 100))),
      row(() => -3e38),
      // The first zero in lane 1, a zero of the other sign later in lane 0.
      row((j) => (j === 0 ? -1 : j === 1 ? 0 : j === 16 ? -0 : -5)),
      row((j) => (j === 0 ? 1 : j === 1 ? -0 : j === 16 ? 0 : 5)),
    ].flat();
    const [c, i] = await both(k, () => ({ x: Tensor.fromValues(f32, [rows, n], values), y: Tensor.empty(f32, [rows, 4]) }));
    expect(Array.from(c[1]!)).toEqual(Array.from(i[1]!));
    expect(Array.from(i[1]!.subarray(0, 8))).toEqual([NaN, NaN, NaN, NaN, -Infinity, -Infinity, -Infinity, -Infinity]);
  });

  // Found in review: a literal coefficient whose range does not fit a C int64 literal made the
  // one-check-per-access guard compare an unsigned value with 0 (always true) under clang and NVRTC.
  testC('huge literal index coefficients are not range-checked as one access', async () => {
    const k = kernel('bigcoef', { x: input(f32, [16]), y: output(f32, [4096 * 2]) }, ({ x, y }) => {
      const rows = arange(4096).expandDims(1);
      const idx = rows.mul(arange(-(2 ** 31), -(2 ** 31) + 1)).mul(arange(2 ** 21, 2 ** 21 + 1)).add(arange(2).expandDims(0));
      store(y, [arange(4096).expandDims(1).mul(2).add(arange(2).expandDims(0))], load(x, [idx]));
    }, { grid: () => [1] });
    expect(emitC(k.build()).source).not.toMatch(/\d{17,}(LL)? >= 0/);
    const [c, i] = await both(k, () => ({ x: Tensor.fromValues(f32, [16], Array.from({ length: 16 }, (_, j) => j)), y: Tensor.empty(f32, [8192]) }));
    expect(c).toEqual(i);
  });

  // Found by the random programs on an AVX2-only CPU (Zen 3): GCC 12.2 at -O3 vectorized the loads
  // of packed elements through tskc_get_bits as AVX2 gathers, and a vector of four came back as zeros
  // (u5 elements 20 to 23 of 34; i3 elements 12 to 15 of [5, 7]). The CPU runtime now builds with
  // NO_GATHER where the compiler takes it (runtime/cpu/toolchain.ts). A kernel with one such copy alone
  // did not show it.
  testC.each([3122501555, 422354712])('random program %i: packed elements copied as the interpreter has them', async (seed) => {
    const p = randomProgram(seed);
    const { got, want } = await runBoth(cpu, p.kernel, p.makeArgs());
    for (const out of Object.keys(want)) expect([out, got[out]]).toEqual([out, want[out]]);
  });

  testC('where of a bool mask between u8 values (GCC 12.2 -O3 AVX-512BW miscompiled the select)', async () => {
    const k = kernel('where_u8', { m: input(bool, [9, 4]), a: input(u8, [9, 4]), b: input(u8, [9, 4]), y: output(u8, [9, 4]) }, ({ m, a, b, y }) => {
      const [i, j] = [arange(9).expandDims(1).broadcastTo([9, 4]), arange(4).expandDims(0).broadcastTo([9, 4])];
      store(y, [i, j], where(load(m, [i, j]), load(a, [i, j]), load(b, [i, j])));
    }, { grid: () => [1] });
    const r = rng(freshSeed());
    const values = (f: () => number) => Array.from({ length: 36 }, f);
    const [m, a, b] = [values(() => (r() < 0.5 ? 1 : 0)), values(() => Math.floor(r() * 256)), values(() => Math.floor(r() * 256))];
    const make = () => ({ m: Tensor.fromValues(bool, [9, 4], m), a: Tensor.fromValues(u8, [9, 4], a), b: Tensor.fromValues(u8, [9, 4], b), y: Tensor.empty(u8, [9, 4]) });
    const [c, i] = await both(k, make);
    expect(c).toEqual(i);
  });
});
