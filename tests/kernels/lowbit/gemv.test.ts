/**
 * The low-bit GEMV (kernels/lowbit/gemv.ts) for every code dtype: the interpreter against the float64
 * reference, then the C backend against the interpreter (bit for bit), at ragged N, several M, outputs
 * poisoned beforehand.
 */
import { jest } from '@jest/globals';
import { type Dtype, bf16, dtype, f16, f32 } from '../../../compiler/ir/dtype.js';
import { hostTensor } from '../../../compiler/interpret/index.js';
import { device } from '../../../runtime/device.js';
import { freshSeed, randInt, rng } from '../../../examples/check.js';
import { codeValues, quantize } from '../../../kernels/lowbit/quantize.js';
import { lowbitGemv, lowbitGemvReference } from '../../../kernels/lowbit/gemv.js';
import { expectSame, poisoned, runBoth } from '../../backends/differential.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

jest.setTimeout(300_000);
const WEIGHTS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8', 'f8e4m3', 'f8e5m2', 'f6e3m2', 'f6e2m3', 'f5e2m2', 'f4e2m1', 'f3e1m1'].map(dtype);
const testC = testWithCompiler('the low-bit GEMV on the C backend');

/** A random case: x [m, k] in `act`, W quantized to `weight`, and the kernel's arguments. */
function makeCase(seed: number, act: Dtype, weight: Dtype, group: number, symmetric = false) {
  const r = rng(seed);
  const [m, n, k] = [randInt(r, 1, 3), randInt(r, 1, 70), group * randInt(r, 1, 3)];
  const x = hostTensor(act, [m, k], Float64Array.from({ length: m * k }, () => 2 * r() - 1));
  const q = quantize(Float64Array.from({ length: n * k }, () => 2 * r() - 1), [n, k], { dtype: weight, group, symmetric, scaleDtype: act === bf16 ? bf16 : f32 });
  const codes = codeValues(q);
  const args = {
    x,
    w: hostTensor(weight, [n, k], codes),
    scales: hostTensor(f32, [n, k / group], q.scales),
    ...(q.zeros ? { zeros: hostTensor(f32, [n, k / group], q.zeros) } : {}),
    y: poisoned(act, [m, n]),
  };
  return { m, n, k, q, codes, x, args, kernel: lowbitGemv(act, weight, q.zeros !== undefined).build({ BN: 16, BK: Math.min(group, 64), GROUP: group }) };
}

describe('low-bit GEMV', () => {
  const interp = device('interp');
  it.each(WEIGHTS.map((d) => [d.name, d] as const))('%s weights: the interpreter matches the float64 reference', async (_, weight) => {
    for (const [act, group] of [[f32, 32], [bf16, 64], [f16, 128]] as const) {
      const seed = freshSeed();
      // Unsigned codes of 2 bits or more also with the fixed middle zero point, at group 64.
      const c = makeCase(seed, act, weight, group, weight.kind === 'unsigned' && weight.bits >= 2 && group === 64);
      const { want } = await runBoth(interp, c.kernel, c.args);
      const reference = lowbitGemvReference(c.x.data, c.m, c.q, c.codes);
      const y = want['y']!;
      for (let i = 0; i < y.length; i++) {
        // f32 accumulation over K terms, then one rounding to the output dtype.
        const scale = Math.max(...c.q.scales);
        const bound = Math.abs(reference[i]!) * 2 ** -(act.mantissaBits! + 1) + 1e-6 * c.k * scale * Math.max(1, weight.maxValue);
        if (!(Math.abs(y[i]! - reference[i]!) <= bound)) throw new Error(`${weight.name} x ${act.name} group ${group} (seed ${seed}) y[${i}] = ${y[i]}, reference ${reference[i]}`);
      }
    }
  });

  testC('the C backend matches the interpreter bit for bit', async () => {
    const cpu = device('cpu');
    for (const weight of WEIGHTS) {
      for (const [act, group] of [[f32, 32], [bf16, 128]] as const) {
        const seed = freshSeed();
        const c = makeCase(seed, act, weight, group);
        const { got, want } = await runBoth(cpu, c.kernel, c.args);
        expectSame(got['y']!, want['y']!, false, `${weight.name} x ${act.name} group ${group} (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`, act);
      }
    }
  });

  it('refuses a step that does not divide the group', () => {
    expect(() => lowbitGemv(f32, dtype('u4'), false).build({ BN: 16, BK: 96, GROUP: 128 })).toThrow('BK = 96 must divide GROUP = 128');
  });
});
