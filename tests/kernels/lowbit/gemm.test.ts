/**
 * The low-bit GEMM (kernels/lowbit/gemm.ts) for every code dtype: the interpreter against the float64
 * reference, then the C and WebGPU backends against the interpreter (bit for bit), with M and N ragged
 * against the tile, outputs poisoned beforehand; and M = 4097 (one row past a multiple of every tile).
 */
import { jest } from '@jest/globals';
import { type Dtype, bf16, dtype, f32 } from '../../../compiler/ir/dtype.js';
import { device } from '../../../runtime/device.js';
import { freshSeed } from '../../../examples/check.js';
import { lowbitGemm } from '../../../kernels/lowbit/gemm.js';
import { expectSame, runBoth } from '../../backends/differential.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';
import { webgpuOr } from '../../backends/wgsl/harness.js';
import { ACT_GROUPS, type CaseShape, WEIGHTS, expectNearReference, makeCase } from './cases.js';

jest.setTimeout(300_000);
const testC = testWithCompiler('the low-bit GEMM on the C backend');
const { it: testWebgpu } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the low-bit GEMM on WebGPU');

const SHAPE: CaseShape = { m: [1, 40], n: [1, 40], groups: [1, 3] };
const gemmCase = (seed: number, act: Dtype, weight: Dtype, group: number, shape = SHAPE, symmetric = false) => {
  const c = makeCase(seed, act, weight, group, shape, symmetric);
  return { ...c, kernel: lowbitGemm(act, weight, c.withZeros).build({ BM: 16, BN: 16, BK: Math.min(group, 32), GROUP: group }) };
};

describe('low-bit GEMM', () => {
  const interp = device('interp');
  it.each(WEIGHTS.map((d) => [d.name, d] as const))('%s weights: the interpreter matches the float64 reference', async (_, weight) => {
    for (const [act, group] of ACT_GROUPS) {
      const seed = freshSeed();
      const c = gemmCase(seed, act, weight, group, SHAPE, weight.kind === 'unsigned' && weight.bits >= 2 && group === 64);
      const { want } = await runBoth(interp, c.kernel, c.args);
      expectNearReference(want['y']!, c, act, weight, `${weight.name} x ${act.name} group ${group} (seed ${seed}) M=${c.m} N=${c.n}`);
    }
  });

  it('M = 4097 rows of x', async () => {
    const seed = freshSeed();
    const c = gemmCase(seed, bf16, dtype('u4'), 32, { m: [4097, 4097], n: [3, 3], groups: [1, 1] });
    const { want } = await runBoth(interp, c.kernel, c.args);
    expectNearReference(want['y']!, c, bf16, dtype('u4'), `u4 x bf16, M = 4097 (seed ${seed})`);
  });

  for (const [backend, test] of [['cpu', testC], ['webgpu', testWebgpu]] as const) {
    test(`the ${backend} backend matches the interpreter bit for bit`, async () => {
      const dev = device(backend);
      for (const [i, weight] of WEIGHTS.entries()) {
        const [act, group] = ACT_GROUPS[i % ACT_GROUPS.length]!;
        const seed = freshSeed();
        const c = gemmCase(seed, act, weight, group);
        const { got, want } = await runBoth(dev, c.kernel, c.args);
        expectSame(got['y']!, want['y']!, false, `${weight.name} x ${act.name} group ${group} (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, act);
      }
    });
  }

  it('refuses a step that does not divide the group', () => {
    expect(() => lowbitGemm(f32, dtype('u4'), false).build({ BM: 16, BN: 16, BK: 96, GROUP: 128 })).toThrow('BK = 96 must divide GROUP = 128');
  });
});
