/**
 * The C backend against the reference interpreter: every example, with fresh random shapes and
 * inputs, outputs poisoned before launch; then random programs from tests/fuzz. Results must be
 * identical, except after transcendental ops (the C library and V8 may differ in the last bit of a
 * double, which can move a rounded float by one ulp).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { Dtype } from '../../../compiler/ir/dtype.js';
import type { Kernel } from '../../../compiler/ir/ir.js';
import { type HostTensor, hostTensor } from '../../../compiler/interpret/index.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { freshSeed, randInt, randomTensor, rng } from '../../../examples/check.js';
import { layerNorm } from '../../../examples/layer-norm.js';
import { matmul } from '../../../examples/matmul.js';
import { softmax } from '../../../examples/softmax.js';
import { vectorAdd } from '../../../examples/vector-add.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-diff-')));
const cpu = device('cpu', { cache });
const interp = device('interp');

/** Runs `kernel` on both devices from the same inputs; returns the outputs of each, by name. */
async function runBoth(kernel: Kernel, args: Record<string, HostTensor | number>): Promise<{ cpu: Record<string, Float64Array>; interp: Record<string, Float64Array> }> {
  const results = { cpu: {}, interp: {} } as { cpu: Record<string, Float64Array>; interp: Record<string, Float64Array> };
  for (const [dev, out] of [[cpu, results.cpu], [interp, results.interp]] as const) {
    const tensors: Record<string, Tensor | number> = {};
    for (const [name, v] of Object.entries(args)) tensors[name] = typeof v === 'number' ? v : Tensor.fromHostTensor(v);
    (await dev.compile(kernel)).launch(tensors);
    for (const [name, v] of Object.entries(tensors)) if (v instanceof Tensor) out[name] = v.toValues();
  }
  return results;
}

/**
 * Equal, NaN equal to NaN and -0 distinct from +0; when approximate (downstream of a transcendental,
 * which may be 2 units in the last place off, and whose error the following ops carry), within 4 units
 * in the last place of the output dtype.
 */
function expectSame(got: Float64Array, want: Float64Array, approximate: boolean, what: string, d: Dtype): void {
  const ulp = 2 ** -(d.mantissaBits ?? 52);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (Object.is(g, w)) continue;
    if (approximate && Math.abs(g - w) <= 4 * ulp * Math.max(Math.abs(w), d.minNormal ?? 0)) continue;
    throw new Error(`${what}: element ${i} is ${g} on cpu but ${w} on the interpreter`);
  }
}

function dtypeOf(kernel: Kernel, arg: string): Dtype {
  return kernel.args.find((a) => a.name === arg)!.type.dtype;
}

function poisoned(d: HostTensor['dtype'], shape: number[]): HostTensor {
  const t = hostTensor(d, shape);
  t.data.fill(d.hasNaN ? NaN : d.maxValue);
  return t;
}

const testC = testWithCompiler('the C backend differential tests');
jest.setTimeout(300_000);

describe('C backend == interpreter', () => {
  testC.each([
    ['vector_add', vectorAdd.build(), (r: () => number) => { const n = randInt(r, 1, 5000); return { x: randomTensor(r, [n]), y: randomTensor(r, [n]), z: poisoned(vectorAdd.args.z.dtype, [n]) }; }, false],
    ['softmax', softmax.build(), (r: () => number) => { const [m, n] = [randInt(r, 1, 30), randInt(r, 1, 1024)]; return { x: randomTensor(r, [m, n], -8, 8), y: poisoned(softmax.args.y.dtype, [m, n]) }; }, true],
    ['layer_norm', layerNorm.build(), (r: () => number) => { const [m, n] = [randInt(r, 1, 30), randInt(r, 2, 1024)]; return { x: randomTensor(r, [m, n], -3, 5), w: randomTensor(r, [n]), b: randomTensor(r, [n]), y: poisoned(layerNorm.args.y.dtype, [m, n]) }; }, true],
    ['matmul', matmul.build(), (r: () => number) => { const [m, k, n] = [randInt(r, 1, 70), randInt(r, 1, 70), randInt(r, 1, 70)]; return { a: randomTensor(r, [m, k]), b: randomTensor(r, [k, n]), c: poisoned(matmul.args.c.dtype, [m, n]) }; }, false],
  ] as const)('%s', async (name, kernel, makeArgs, approximate) => {
    const seed = freshSeed();
    const { cpu: got, interp: want } = await runBoth(kernel, makeArgs(rng(seed)));
    for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, approximate, `${name} (seed ${seed}) output ${out}`, dtypeOf(kernel, out));
  });

  const runs = Number(process.env['TSKC_FUZZ_RUNS'] ?? 40);
  const firstSeed = process.env['TSKC_FUZZ_SEED'] !== undefined ? Number(process.env['TSKC_FUZZ_SEED']) : freshSeed();
  testC(`${runs} random programs from seed ${firstSeed}`, async () => {
    for (let i = 0; i < runs; i++) {
      const p = randomProgram((firstSeed + i) >>> 0);
      const { cpu: got, interp: want } = await runBoth(p.kernel, p.makeArgs());
      for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, p.approximate.has(out), `random program ${p.seed} output ${out}`, dtypeOf(p.kernel, out));
    }
  });
});
