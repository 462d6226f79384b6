/**
 * The low-bit GEMV (kernels/lowbit/gemv.ts) for every code dtype: the interpreter against the float64
 * reference, then the C and WebGPU backends against the interpreter (bit for bit), at ragged N,
 * several M, outputs poisoned beforehand.
 */
import { jest } from '@jest/globals';
import { type Dtype, bf16, dtype, f16, f32 } from '../../../compiler/ir/dtype.js';
import { device } from '../../../runtime/device.js';
import { DEFAULT_CFLAGS } from '../../../runtime/cpu/toolchain.js';
import { freshSeed } from '../../../examples/check.js';
import { type LowbitGemvOptions, lowbitGemv } from '../../../kernels/lowbit/gemv.js';
import { hostTensor } from '../../../compiler/interpret/index.js';
import { dotTileOrder, groupMajorScales, tileCodes } from '../../../kernels/lowbit/layout.js';
import { expectSame, runBoth } from '../../backends/differential.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';
import { webgpuOr } from '../../backends/wgsl/harness.js';
import { ACT_GROUPS, GEMV_SHAPE, WEIGHTS, expectNearReference, makeCase } from './cases.js';

jest.setTimeout(300_000);
const testC = testWithCompiler('the low-bit GEMV on the C backend');
const { it: testWebgpu } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the low-bit GEMV on WebGPU');

const gemvCase = (seed: number, act: Dtype, weight: Dtype, group: number, symmetric = false, options: LowbitGemvOptions = {}) => {
  const c = makeCase(seed, act, weight, group, GEMV_SHAPE, symmetric);
  return { ...c, kernel: lowbitGemv(act, weight, c.withZeros, options).build({ BN: 16, BK: Math.min(group, 64), GROUP: group }) };
};

describe('low-bit GEMV', () => {
  const interp = device('interp');
  it.each(WEIGHTS.map((d) => [d.name, d] as const))('%s weights: the interpreter matches the float64 reference', async (_, weight) => {
    for (const [act, group] of [[f32, 32], [bf16, 64], [f16, 128]] as const) {
      const seed = freshSeed();
      // Unsigned codes of 2 bits or more also with the fixed middle zero point, at group 64.
      const c = gemvCase(seed, act, weight, group, weight.kind === 'unsigned' && weight.bits >= 2 && group === 64);
      const { want } = await runBoth(interp, c.kernel, c.args);
      expectNearReference(want['y']!, c, act, weight, `${weight.name} x ${act.name} group ${group} (seed ${seed})`);
    }
  });

  testC('the C backend matches the interpreter bit for bit', async () => {
    const cpu = device('cpu');
    for (const weight of WEIGHTS) {
      for (const [act, group] of [[f32, 32], [bf16, 128]] as const) {
        const seed = freshSeed();
        const c = gemvCase(seed, act, weight, group);
        const { got, want } = await runBoth(cpu, c.kernel, c.args);
        expectSame(got['y']!, want['y']!, false, `${weight.name} x ${act.name} group ${group} (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, act);
      }
    }
  });

  testWebgpu('the WebGPU backend matches the interpreter bit for bit', async () => {
    const webgpu = device('webgpu');
    for (const [i, weight] of WEIGHTS.entries()) {
      const [act, group] = ACT_GROUPS[i % ACT_GROUPS.length]!;
      const seed = freshSeed();
      const c = gemvCase(seed, act, weight, group);
      const { got, want } = await runBoth(webgpu, c.kernel, c.args);
      expectSame(got['y']!, want['y']!, false, `${weight.name} x ${act.name} group ${group} (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, act);
    }
  });

  testC('the C backend without vector extensions (-DTSKC_NO_VECTOR_EXTENSIONS) matches too', async () => {
    // The plain C paths of the prelude's unpacking and lane sums, which GCC builds never take otherwise.
    const plain = device('cpu', { flags: [...DEFAULT_CFLAGS, '-DTSKC_NO_VECTOR_EXTENSIONS'] });
    for (const weight of WEIGHTS.filter((d) => d.bits < 8)) {
      const seed = freshSeed();
      const c = gemvCase(seed, f32, weight, 32);
      const { got, want } = await runBoth(plain, c.kernel, c.args);
      expectSame(got['y']!, want['y']!, false, `${weight.name} without vector extensions (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, f32);
    }
  });

  // The variant that sums a [BN, BK] accumulator once after the walk (the GPU's form: no reduction in the loop).
  describe("accumulate: 'tile'", () => {
    const tileAcc = { accumulate: 'tile' } as const;
    // Every other code dtype (the codes' loads are the default form's, tested above for all of them).
    it.each(WEIGHTS.filter((_, i) => i % 2 === 0).map((d) => [d.name, d] as const))('%s weights: the interpreter matches the float64 reference', async (_, weight) => {
      for (const [act, group] of [[f32, 32], [bf16, 128]] as const) {
        const seed = freshSeed();
        const c = gemvCase(seed, act, weight, group, weight.kind === 'unsigned' && weight.bits >= 2 && group === 32, tileAcc);
        const { want } = await runBoth(interp, c.kernel, c.args);
        expectNearReference(want['y']!, c, act, weight, `${weight.name} x ${act.name} group ${group}, tile accumulator (seed ${seed})`);
      }
    });

    testC('the C backend matches the interpreter bit for bit', async () => {
      const cpu = device('cpu');
      for (const [i, weight] of WEIGHTS.entries()) {
        if (i % 3 !== 1) continue;
        const [act, group] = ACT_GROUPS[i % ACT_GROUPS.length]!;
        const seed = freshSeed();
        const c = gemvCase(seed, act, weight, group, false, tileAcc);
        const { got, want } = await runBoth(cpu, c.kernel, c.args);
        expectSame(got['y']!, want['y']!, false, `${weight.name} x ${act.name} group ${group}, tile accumulator (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, act);
      }
    });

    testWebgpu('the WebGPU backend matches the interpreter bit for bit', async () => {
      const webgpu = device('webgpu');
      for (const weight of WEIGHTS.filter((_, i) => i % 3 === 0)) {
        const seed = freshSeed();
        const c = gemvCase(seed, bf16, weight, 64, false, tileAcc);
        const { got, want } = await runBoth(webgpu, c.kernel, c.args);
        expectSame(got['y']!, want['y']!, false, `${weight.name} x bf16 group 64, tile accumulator (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, bf16);
      }
    });

    // Steps of 2 or 4 groups (each lane reads its own column's scale), K of 2 to 2 * span + 1 groups:
    // every case has a step across groups, and most a ragged last step.
    describe('steps spanning several groups', () => {
      const spanning = [
        ['u4', f32, 32, 4],
        ['i3', bf16, 64, 2],
        ['f4e2m1', f16, 32, 2],
        ['u6', bf16, 32, 4],
      ] as const;
      const spanningCase = (seed: number, weight: Dtype, act: Dtype, group: number, span: number) => {
        const c = makeCase(seed, act, weight, group, { ...GEMV_SHAPE, groups: [2, 2 * span + 1] });
        const kernel = lowbitGemv(act, weight, c.withZeros, tileAcc).build({ BN: 16, BK: group * span, GROUP: group });
        return { ...c, kernel, what: `${weight.name} x ${act.name} group ${group}, ${span} groups a step (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}` };
      };
      it.each(spanning.map(([name, act, group, span]) => [name, act.name, group, span, act] as const))('%s x %s, group %i, %i groups a step: the interpreter matches the float64 reference', async (name, _, group, span, act) => {
        const c = spanningCase(freshSeed(), dtype(name), act, group, span);
        const { want } = await runBoth(interp, c.kernel, c.args);
        expectNearReference(want['y']!, c, act, dtype(name), c.what);
      });

      testC('the C backend matches the interpreter bit for bit', async () => {
        for (const [name, act, group, span] of spanning) {
          const c = spanningCase(freshSeed(), dtype(name), act, group, span);
          const { got, want } = await runBoth(device('cpu'), c.kernel, c.args);
          expectSame(got['y']!, want['y']!, false, c.what, act);
        }
      });

      testWebgpu('the WebGPU backend matches the interpreter bit for bit', async () => {
        for (const [name, act, group, span] of spanning) {
          const c = spanningCase(freshSeed(), dtype(name), act, group, span);
          const { got, want } = await runBoth(device('webgpu'), c.kernel, c.args);
          expectSame(got['y']!, want['y']!, false, c.what, act);
        }
      });

      it('BK must divide GROUP or be a multiple of it; only the tile accumulator takes a multiple', () => {
        expect(() => lowbitGemv(f32, dtype('u4'), true, tileAcc).build({ BN: 16, BK: 96, GROUP: 64 })).toThrow('BK = 96 must divide GROUP = 64 or be a multiple of it');
        expect(() => lowbitGemv(f32, dtype('u4'), true).build({ BN: 16, BK: 128, GROUP: 64 })).toThrow('BK = 128 must divide GROUP = 64');
      });
    });
  });

  // Each step a dot (one f32 FMA per code, in k order) from interleaved or column-major tiles, the
  // scales group-major: the CPU's fast form.
  describe("accumulate: 'dot'", () => {
    const dotCase = (seed: number, act: Dtype, weight: Dtype, group: number, symmetric = false) => {
      const c = makeCase(seed, act, weight, group, GEMV_SHAPE, symmetric);
      // 32 outputs a tile: a whole number of every width's unpacking group (16 or 32 codes) per row.
      const tile = [32, Math.min(group, 64)] as const;
      const tiled = tileCodes(c.q, tile, dotTileOrder(weight));
      const placed = groupMajorScales(c.q);
      const kernel = lowbitGemv(act, weight, c.withZeros, { tile, accumulate: 'dot' }).build({ BN: tile[0], BK: tile[1], GROUP: group });
      const scales = { scales: hostTensor(f32, [...placed.shape], placed.scales), ...(placed.zeros ? { zeros: hostTensor(f32, [...placed.shape], placed.zeros) } : {}) };
      return { ...c, kernel, args: { ...c.args, w: hostTensor(weight, [...tiled.shape], tiled.values), ...scales } };
    };
    it.each(WEIGHTS.filter((_, i) => i % 2 === 1).map((d) => [d.name, d] as const))('%s weights: the interpreter matches the float64 reference', async (_, weight) => {
      for (const [act, group] of [[f32, 32], [bf16, 128]] as const) {
        const seed = freshSeed();
        const c = dotCase(seed, act, weight, group, weight.kind === 'unsigned' && weight.bits >= 2 && group === 32);
        const { want } = await runBoth(interp, c.kernel, c.args);
        expectNearReference(want['y']!, c, act, weight, `${weight.name} x ${act.name} group ${group}, dot steps (seed ${seed})`);
      }
    });

    testC('the C backend matches the interpreter bit for bit, with vector extensions and without', async () => {
      const plain = device('cpu', { flags: [...DEFAULT_CFLAGS, '-DTSKC_NO_VECTOR_EXTENSIONS'] });
      for (const [i, weight] of WEIGHTS.entries()) {
        const [act, group] = ACT_GROUPS[i % ACT_GROUPS.length]!;
        const seed = freshSeed();
        const c = dotCase(seed, act, weight, group);
        for (const cpu of i % 4 === 0 ? [device('cpu'), plain] : [device('cpu')]) {
          const { got, want } = await runBoth(cpu, c.kernel, c.args);
          expectSame(got['y']!, want['y']!, false, `${weight.name} x ${act.name} group ${group}, dot steps (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, act);
        }
      }
    });

    testWebgpu('the WebGPU backend matches the interpreter bit for bit', async () => {
      const webgpu = device('webgpu');
      for (const weight of WEIGHTS.filter((_, i) => i % 3 === 2)) {
        const seed = freshSeed();
        const c = dotCase(seed, f32, weight, 64);
        const { got, want } = await runBoth(webgpu, c.kernel, c.args);
        expectSame(got['y']!, want['y']!, false, `${weight.name} x f32 group 64, dot steps (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, f32);
      }
    });

    it('needs the weights in tiles', () => {
      expect(() => lowbitGemv(f32, dtype('u4'), false, { accumulate: 'dot' })).toThrow("accumulate 'dot' reads W in tiles");
    });
  });

  it('refuses at launch a K that is not G whole groups, and tiles that do not cover N and K, naming the extents', async () => {
    const c = gemvCase(freshSeed(), f32, dtype('u4'), 64);
    const { K, G } = { K: c.k, G: c.k / 64 };
    const short = { ...c.args, x: hostTensor(f32, [c.m, K - 1], new Float64Array(c.m * (K - 1))), w: hostTensor(dtype('u4'), [c.n, K - 1], new Float64Array(c.n * (K - 1))) };
    await expect(runBoth(interp, c.kernel, short)).rejects.toThrow(`its extents must satisfy K == mul(G, 64), but K = ${K - 1} (from x) and G = ${G} (from scales): ${K - 1} != ${K}`);
    const tiled = lowbitGemv(f32, dtype('u4'), false, { tile: [32, 64], accumulate: 'dot' }).build({ BN: 32, BK: 64, GROUP: 64 });
    const [n, k] = [40, 128];
    const args = (nb: number, kb: number) => ({
      x: hostTensor(f32, [1, k], new Float64Array(k)),
      w: hostTensor(dtype('u4'), [nb, kb, 8, 32, 8], new Float64Array(nb * kb * 64 * 32)),
      scales: hostTensor(f32, [2, n], new Float64Array(2 * n)),
      y: hostTensor(f32, [1, n], new Float64Array(n)),
    });
    await runBoth(interp, tiled, args(2, 2));
    await expect(runBoth(interp, tiled, args(1, 2))).rejects.toThrow('must satisfy NB == cdiv(N, 32), but NB = 1 (from w) and N = 40 (from scales): 1 != 2');
    await expect(runBoth(interp, tiled, args(2, 1))).rejects.toThrow('must satisfy K == mul(KB, 64), but K = 128 (from x) and KB = 1 (from w): 128 != 64');
  });

  it('refuses a step that does not divide the group', () => {
    expect(() => lowbitGemv(f32, dtype('u4'), false).build({ BN: 16, BK: 96, GROUP: 128 })).toThrow('BK = 96 must divide GROUP = 128');
  });
});
