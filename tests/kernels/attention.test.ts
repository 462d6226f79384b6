/**
 * Flash-attention forward (kernels/attention.ts), causal and not: the interpreter against the float64
 * reference, then the C and WebGPU backends against the interpreter, in f32 and bf16, with S ragged
 * against both blocks, D below the block, and o poisoned; and the head dims 64 and 128 filling their block.
 */
import { jest } from '@jest/globals';
import { type Dtype, bf16, f32 } from '../../compiler/ir/dtype.js';
import { device } from '../../runtime/device.js';
import { freshSeed, randInt, randomTensor, rng } from '../../examples/check.js';
import { attentionReference, flashAttention } from '../../kernels/attention.js';
import { expectSame, poisoned, runBoth } from '../backends/differential.js';
import { testWithCompiler } from '../runtime/cpu/harness.js';
import { webgpuOr } from '../backends/wgsl/harness.js';

jest.setTimeout(300_000);
const testC = testWithCompiler('flash attention on the C backend');
const { it: testWebgpu } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'flash attention on WebGPU');

/** A random case; `head` fixes the head dim D (and BLOCK_D to it), else D is drawn below BLOCK_D = 32. */
function makeCase(seed: number, d: Dtype, causal: boolean, head?: number) {
  const r = rng(seed);
  // f32 cases walk at least three key blocks (so a row's maximum grows and the rescaling shows); bf16 ones may fit in one.
  const shape = [randInt(r, 1, 2), randInt(r, 1, 3), randInt(r, d === f32 ? 33 : 1, 70), head ?? randInt(r, 1, 32)] as [number, number, number, number];
  const [q, k, v] = [0, 1, 2].map(() => randomTensor(r, shape, -2, 2, d)) as [ReturnType<typeof randomTensor>, ReturnType<typeof randomTensor>, ReturnType<typeof randomTensor>];
  const scale = 1 / Math.sqrt(shape[3]);
  return {
    kernel: flashAttention(d, causal).build({ BM: 16, BN: 16, BLOCK_D: head ?? 32, SCALE: scale }),
    args: { q, k, v, o: poisoned(d, shape) },
    reference: () => attentionReference(q.data, k.data, v.data, shape, Math.fround(scale), causal),
    what: `attention ${d.name}${causal ? ' causal' : ''} [B, H, S, D] = [${shape}] (seed ${seed})`,
  };
}

/**
 * The interpreter's o against the float64 reference: outputs are weighted means of v (|v| <= 2), f32
 * work, then (bf16) one rounding. bf16 also rounds each weight p to bf16 for p·v (kernels/attention.ts),
 * within 2^-8 of it: an error of at most 2^-8 · |v| <= 2^-7 in the mean, whatever the mean's size.
 */
async function expectNearReference(c: ReturnType<typeof makeCase>, d: Dtype): Promise<void> {
  const { want } = await runBoth(device('interp'), c.kernel, c.args);
  const reference = c.reference();
  const relative = d === bf16 ? 2 ** -7 : 2 ** -18;
  const weights = d === bf16 ? 2 ** -7 : 0;
  for (let i = 0; i < reference.length; i++) {
    const bound = Math.abs(reference[i]!) * relative + weights + 2 ** -18;
    if (!(Math.abs(want['o']![i]! - reference[i]!) <= bound)) throw new Error(`${c.what}: o[${i}] = ${want['o']![i]}, reference ${reference[i]}`);
  }
}

describe('flash attention', () => {
  const interp = device('interp');
  it.each([false, true])('causal %s: the interpreter matches the float64 reference', async (causal) => {
    for (const d of [f32, bf16]) await expectNearReference(makeCase(freshSeed(), d, causal), d);
  });

  // The head dims, each filling its block (BLOCK_D = D): the interpreter against the reference,
  // the C backend against the interpreter.
  it.each([64, 128])('head dim %i: the interpreter matches the float64 reference', async (head) => {
    for (const causal of [false, true]) await expectNearReference(makeCase(freshSeed(), bf16, causal, head), bf16);
  });

  testC('head dims 64 and 128: the C backend matches the interpreter', async () => {
    const cpu = device('cpu');
    for (const [head, causal] of [[64, true], [128, false]] as const) {
      const c = makeCase(freshSeed(), bf16, causal, head);
      const { got, want } = await runBoth(cpu, c.kernel, c.args);
      expectSame(got['o']!, want['o']!, true, c.what, bf16, true);
    }
  });

  it('a head wider than BLOCK_D fails the launch', async () => {
    const shape = [1, 1, 4, 40];
    const [q, k, v] = [0, 1, 2].map(() => randomTensor(rng(freshSeed()), shape));
    await expect(runBoth(interp, flashAttention(f32, false).build({ BLOCK_D: 32 }), { q: q!, k: k!, v: v!, o: poisoned(f32, shape) })).rejects.toThrow('kernel attention_f32: its extents must satisfy D <= 32, but D = 40 (from q): 40 > 32');
  });

  for (const [backend, test] of [['cpu', testC], ['webgpu', testWebgpu]] as const) {
    test(`the ${backend} backend matches the interpreter`, async () => {
      const dev = device(backend);
      for (const causal of [false, true]) {
        for (const d of [f32, bf16]) {
          const c = makeCase(freshSeed(), d, causal);
          const { got, want } = await runBoth(dev, c.kernel, c.args);
          expectSame(got['o']!, want['o']!, true, c.what, d, true);
        }
      }
    });
  }
});
