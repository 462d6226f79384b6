/**
 * The linear layer with fused epilogues (kernels/linear.ts): the interpreter against the float64
 * reference, then the C and WebGPU backends against the interpreter, for each epilogue, in f32 and
 * bf16, with M, N and K ragged against the tiles and y poisoned.
 */
import { jest } from '@jest/globals';
import { type Dtype, bf16, f32 } from '../../compiler/ir/dtype.js';
import { device } from '../../runtime/device.js';
import { freshSeed, randInt, randomTensor, rng } from '../../examples/check.js';
import { type LinearOptions, linear, linearReference } from '../../kernels/linear.js';
import { ACTIVATION_REFERENCES } from '../../kernels/activations.js';
import { expectSame, hasF32Transcendentals, poisoned, runBoth } from '../backends/differential.js';
import { testWithCompiler } from '../runtime/cpu/harness.js';
import { webgpuOr } from '../backends/wgsl/harness.js';

jest.setTimeout(300_000);
const testC = testWithCompiler('the fused linear layer on the C backend');
const { it: testWebgpu } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the fused linear layer on WebGPU');

const EPILOGUES: readonly (LinearOptions & { scale: number })[] = [
  { scale: 1 },
  { scale: 1, bias: true, activation: 'relu' },
  { scale: 0.5, bias: true, activation: 'gelu', residual: true },
  { scale: 1, activation: 'silu', residual: true },
];

function makeCase(seed: number, d: Dtype, e: (typeof EPILOGUES)[number]) {
  const r = rng(seed);
  const [m, k, n] = [randInt(r, 1, 40), randInt(r, 1, 70), randInt(r, 1, 40)];
  const [x, w, bias, residual] = [randomTensor(r, [m, k], -1, 1, d), randomTensor(r, [n, k], -1, 1, d), randomTensor(r, [n], -1, 1, d), randomTensor(r, [m, n], -1, 1, d)];
  const kernel = linear(d, e).build({ BM: 16, BN: 16, BK: 16, SCALE: e.scale });
  const args = { x, w, ...(e.bias ? { bias } : {}), ...(e.residual ? { residual } : {}), y: poisoned(d, [m, n]) };
  const reference = () =>
    linearReference(x.data, w.data, m, k, n, { scale: e.scale, ...(e.bias ? { bias: bias.data } : {}), ...(e.activation ? { activation: ACTIVATION_REFERENCES[e.activation] } : {}), ...(e.residual ? { residual: residual.data } : {}) });
  return { kernel, args, reference, k, what: `${kernel.name} scale ${e.scale} M=${m} K=${k} N=${n} (seed ${seed})`, transcendental: e.activation === 'gelu' || e.activation === 'silu' };
}

describe('linear layer with fused epilogues', () => {
  const interp = device('interp');
  it.each(EPILOGUES.map((e, i) => [i, e] as const))('epilogue %i: the interpreter matches the float64 reference', async (_, e) => {
    for (const d of [f32, bf16]) {
      const c = makeCase(freshSeed(), d, e);
      const { want } = await runBoth(interp, c.kernel, c.args);
      const reference = c.reference();
      // f32 accumulation over K terms of magnitude <= 1, then (bf16) one rounding of the result.
      const relative = d === bf16 ? 2 ** -7 : 2 ** -20;
      for (let i = 0; i < reference.length; i++) {
        const bound = Math.abs(reference[i]!) * relative + 2 ** -20 * c.k;
        if (!(Math.abs(want['y']![i]! - reference[i]!) <= bound)) throw new Error(`${c.what}: y[${i}] = ${want['y']![i]}, reference ${reference[i]}`);
      }
    }
  });

  for (const [backend, test] of [['cpu', testC], ['webgpu', testWebgpu]] as const) {
    test(`the ${backend} backend matches the interpreter`, async () => {
      const dev = device(backend);
      for (const e of EPILOGUES) {
        for (const d of [f32, bf16]) {
          const c = makeCase(freshSeed(), d, e);
          const { got, want } = await runBoth(dev, c.kernel, c.args);
          expectSame(got['y']!, want['y']!, c.transcendental, c.what, d, backend === 'webgpu' || hasF32Transcendentals(c.kernel));
        }
      }
    });
  }
});
