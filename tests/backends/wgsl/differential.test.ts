/**
 * The WGSL backend on a real WebGPU adapter against the reference interpreter: every example with
 * fresh random shapes and inputs, outputs poisoned before the run, then random programs and random
 * tiled matmuls from tests/fuzz. On CI the adapter is Mesa's lavapipe (Vulkan on the CPU), installed by
 * .ci/run.
 */
import { jest } from '@jest/globals';
import { device } from '../../../runtime/device.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { randomMatmul } from '../../fuzz/random-matmul.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { randInt, randomTensor } from '../../../examples/check.js';
import { arange, bf16, dot, f32, i32, input, kernel, load, output, store, tensor, zeros } from '../../../dsl/index.js';
import { matmul } from '../../../examples/matmul.js';
import { libraryKernels } from '../../../kernels/index.js';
import { libraryArguments, libraryShapes } from '../../kernels/library-arguments.js';
import { copyArguments } from '../../../bin/launch-inputs.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { softmaxRows } from '../../../kernels/rows/softmax.js';
import { layerNormRows, rmsNormRows } from '../../../kernels/rows/norms.js';
import { EXAMPLE_CASES, type Runner, dtypeOf, expectMatmulExact, expectSame, poisoned, runBoth } from '../differential.js';
import { compileWebgpu } from '../../../runtime/webgpu/webgpu-kernel.js';
import { webgpuOr } from './harness.js';

const { it } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the WebGPU differential tests');
const webgpu = device('webgpu');
// The backend's default moves one word per thread and access; 16 bytes (a vec4) is its other mode.
// On a software adapter the loops stay loops by default; the second mode writes them out as on a GPU,
// and checks whole tiles at once where their indices are affine (the `boxed` option).
const quads: Runner = { compile: (k) => compileWebgpu(k, { vectorWords: 4, unroll: 256, boxed: true }) };
const runs = Number(process.env['TSKC_FUZZ_RUNS'] ?? 40);
jest.setTimeout(Math.max(300_000, runs * 2_000)); // lavapipe compiles and runs a program in about 0.4 s

describe.each([
  ['one-word accesses', webgpu],
  ['vec4 accesses, loops written out, boxed', quads],
] as const)('WGSL backend on WebGPU == interpreter, %s', (_mode, webgpu) => {
  it.each(EXAMPLE_CASES)('%s', async (name, kernel, makeArgs, approximate) => {
    const seed = freshSeed();
    const { got, want } = await runBoth(webgpu, kernel, makeArgs(rng(seed)));
    for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, approximate, `${name} (seed ${seed}) output ${out}`, dtypeOf(kernel, out), true);
  });

  // bf16 tensors: 16-bit elements, two to a word, written through atomics.
  it.each([
    ['softmax_bf16', softmaxRows(bf16).build({ BLOCK_N: 2048 }), false],
    ['layer_norm_bf16', layerNormRows(bf16).build({ BLOCK_N: 2048 }), true],
    ['rms_norm_bf16', rmsNormRows(bf16).build({ BLOCK_N: 2048 }), false],
  ] as const)('%s', async (name, kernel, withBias) => {
    const seed = freshSeed();
    const r = rng(seed);
    const [m, n] = [randInt(r, 1, 20), randInt(r, 1, 2048)];
    const args = { x: randomTensor(r, [m, n], -4, 4, bf16), w: randomTensor(r, [n], -2, 2, bf16), ...(withBias ? { b: randomTensor(r, [n], -1, 1, bf16) } : {}), y: poisoned(bf16, [m, n]) };
    const { got, want } = await runBoth(webgpu, kernel, name === 'softmax_bf16' ? { x: args.x, y: args.y } : args);
    expectSame(got['y']!, want['y']!, true, `${name} (seed ${seed}) M=${m} N=${n}`, bf16, true);
  });

  it('a store into an inout tensor waits for every earlier load of it (shift in place)', async () => {
    const shift = kernel('shift_in_place', { t: tensor(f32, [1024]) }, ({ t }) => {
      const i = arange(1023);
      store(t, [i.add(1)], load(t, [i]));
    }, { grid: () => [1] });
    const seed = freshSeed();
    const { got, want } = await runBoth(webgpu, shift.build(), { t: randomTensor(rng(seed), [1024]) });
    expectSame(got['t']!, want['t']!, false, `shift_in_place (seed ${seed})`, f32);
  });

  // Dots whose operands take more than 16 KiB are staged a slice of k at a time (backends/wgsl/emit.ts
  // dot): slices of 32 of a 64-deep matmul step, 60 and 36 of an integer dot (wrapping sums), and 31
  // (four whole, one of 4) of the CPU's 128x128 GEMV tiles, which staged whole did not fit lavapipe.
  it('dots staged a slice of k at a time == interpreter', async () => {
    const seed = freshSeed();
    const r = rng(seed);
    const [m, k, n] = [randInt(r, 1, 150), randInt(r, 1, 150), randInt(r, 1, 150)];
    const big = matmul.build({ BM: 64, BN: 64, BK: 64 });
    const mm = await runBoth(webgpu, big, { a: randomTensor(r, [m, k]), b: randomTensor(r, [k, n]), c: poisoned(f32, [m, n]) });
    expectSame(mm.got['c']!, mm.want['c']!, false, `matmul 64x64x64 (seed ${seed}) M=${m} K=${k} N=${n}`, f32);

    const intDot = kernel('int_dot', { a: input(i32, ['M', 'K']), b: input(i32, ['K', 'N']), c: output(i32, ['M', 'N']) }, ({ a, b, c }) => {
      const [rows, ks, cols] = [arange(4).expandDims(1), arange(96), arange(64).expandDims(0)];
      const aTile = load(a, [rows, ks.expandDims(0)], { mask: rows.lt(a.dim(0)).and(ks.lt(a.dim(1)).expandDims(0)) });
      const bTile = load(b, [ks.expandDims(1), cols], { mask: ks.lt(b.dim(0)).expandDims(1).and(cols.lt(b.dim(1))) });
      store(c, [rows, cols], dot(aTile, bTile, zeros([4, 64], i32)), { mask: rows.lt(c.dim(0)).and(cols.lt(c.dim(1))) });
    }, { grid: () => [1] });
    const [im, ik, inn] = [randInt(r, 1, 4), randInt(r, 61, 96), randInt(r, 1, 64)];
    const big32 = (shape: number[]) => randomTensor(r, shape, -(2 ** 20), 2 ** 20, i32);
    const id = await runBoth(webgpu, intDot.build(), { a: big32([im, ik]), b: big32([ik, inn]), c: poisoned(i32, [im, inn]) });
    expectSame(id.got['c']!, id.want['c']!, false, `int_dot (seed ${seed}) M=${im} K=${ik} N=${inn}`, i32);

    const gemv = libraryKernels['gemv_f32_u4_zp_tiled128x128_dot']!;
    const symbols = libraryShapes(gemv.name, gemv.params)(r);
    const args = libraryArguments(gemv.build(), symbols, Math.floor(r() * 2 ** 31));
    const want = copyArguments(args);
    await (await webgpu.compile(gemv.build())).run(args);
    await (await device('interp').compile(gemv.build())).run(want);
    expectSame((args['y'] as Tensor).toValues(), (want['y'] as Tensor).toValues(), false, `${gemv.name} (seed ${seed}) ${JSON.stringify(symbols)}`, f32);
  });

  const firstSeed = process.env['TSKC_FUZZ_SEED'] !== undefined ? Number(process.env['TSKC_FUZZ_SEED']) : freshSeed();
  it(`${runs} random programs from seed ${firstSeed}`, async () => {
    for (let i = 0; i < runs; i++) {
      const p = randomProgram((firstSeed + i) >>> 0, 8, false, false);
      const { got, want } = await runBoth(webgpu, p.kernel, p.makeArgs());
      for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, p.approximate.has(out), `random program ${p.seed} output ${out}`, dtypeOf(p.kernel, out), true);
    }
  });

  // Tiles of up to 64 x 64 and K loops with masks, transposes and casts (lavapipe takes 2 s for each with
  // one-word accesses, about 10 s written out with vec4s).
  const matmuls = Number(process.env['TSKC_FUZZ_MATMULS'] ?? 3);
  it(`${matmuls} random tiled matmuls from seed ${firstSeed}`, async () => {
    for (let i = 0; i < matmuls; i++) await expectMatmulExact(webgpu, randomMatmul((firstSeed + i) >>> 0));
  });
});
