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
import { arange, bf16, f32, kernel, load, store, tensor } from '../../../dsl/index.js';
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

  const firstSeed = process.env['TSKC_FUZZ_SEED'] !== undefined ? Number(process.env['TSKC_FUZZ_SEED']) : freshSeed();
  it(`${runs} random programs from seed ${firstSeed}`, async () => {
    for (let i = 0; i < runs; i++) {
      const p = randomProgram((firstSeed + i) >>> 0);
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
