/**
 * The CUDA backend's cp.async pipelines (pipelineStages, on the register path) in the loops the
 * library's kernels do not make, emulated on the CPU (emulator/: a copy lands only at its wait, its
 * destination poisoned until then) against the interpreter: a pipelined loop inside another loop, its
 * lower bound from the outer loop's variable, its step from an argument, run zero or more times; two
 * pipelined dots in one loop, the second's loads after the first dot; masked loads with fills other than
 * zero; a cast that changes values, which must stay a load; and b loaded as [k, n] through an identity
 * permute, copied k-major (read by ldmatrix.trans).
 */
import { jest } from '@jest/globals';
import { compareOutputs, copyArguments, makeArguments } from '../../../bin/launch-inputs.js';
import { emitCuda } from '../../../backends/cuda/index.js';
import type { CudaEmitOptions } from '../../../backends/cuda/index.js';
import type { Kernel } from '../../../compiler/ir/ir.js';
import { type Tile, arange, bf16, cdiv, dot, f32, forRange, i32, input, kernel, load, output, programId, scalar, store, zeros } from '../../../dsl/index.js';
import { freshSeed, randInt, rng } from '../../../examples/check.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { emulatedCuda, emulatorMissing } from './emulator/emulate.js';

jest.setTimeout(600_000);
const missing = await emulatorMissing();
if (missing) process.stderr.write(`tskc: skipping the emulated cp.async pipeline tests: ${missing}\n`);
const it = missing ? test.skip : test;

const [BM, BN, BK] = [32, 16, 16];

/**
 * c = sum over j < J of (a · bᵀ over K from 8 j, in steps of `step`) + (the same with the K tiles 16
 * further on): an outer loop around a K loop with two dots, the second dot's loads after the first.
 * Lanes past K read 2 from a and 0.5 from b (products of 1, visible in c).
 */
const nestedTwoDots = kernel(
  'nested_two_dots',
  { a: input(bf16, ['M', 'K']), b: input(bf16, ['N', 'K']), c: output(f32, ['M', 'N']), J: scalar(i32), step: scalar(i32) },
  ({ a, b, c, J, step }) => {
    const rows = programId(0).mul(BM).add(arange(BM)).expandDims(1);
    const cols = programId(1).mul(BN).add(arange(BN)).expandDims(1);
    const tiles = (k0: Tile) => {
      const ks = k0.add(arange(BK)).expandDims(0);
      const inK = ks.lt(a.dim(1));
      const x = load(a, [rows, ks], { mask: rows.lt(a.dim(0)).and(inK), other: 2 }).to(f32);
      const w = load(b, [cols, ks], { mask: cols.lt(b.dim(0)).and(inK), other: 0.5 }).to(f32);
      return [x, w.T] as const;
    };
    const [total] = forRange(0, J, 1, [zeros([BM, BN], f32)], (j, [sum]) =>
      forRange(j.mul(8), a.dim(1), step, [sum!], (k0, [acc]) => {
        const [x, w] = tiles(k0);
        const first = dot(x, w, acc!);
        const [x2, w2] = tiles(k0.add(16));
        return [dot(x2, w2, first)];
      }),
    );
    store(c, [rows, cols.T], total!, { mask: rows.lt(c.dim(0)).and(cols.T.lt(c.dim(1))) });
  },
  { grid: ({ M, N }) => [cdiv(M, BM), cdiv(N, BN)] },
).build();

/**
 * c = trunc(a) · b for b stored [K, N], on `bn`-column tiles: a's values change on the way to the dot
 * (truncated to integers through i32), so a cannot be a copy; b reaches it untransposed through an
 * identity permute, a copy into the k-major staging. With `d` f32 (for tf32), a is a plain load.
 */
const untransposedB = (bn: number, d: typeof bf16 = bf16) =>
  kernel(
    `untransposed_b_${d.name}_${bn}`,
    { a: input(d, ['M', 'K']), b: input(d, ['K', 'N']), c: output(f32, ['M', 'N']) },
    ({ a, b, c }) => {
      const rows = programId(0).mul(BM).add(arange(BM)).expandDims(1);
      const cols = programId(1).mul(bn).add(arange(bn)).expandDims(0);
      const [acc] = forRange(0, a.dim(1), BK, [zeros([BM, bn], f32)], (k0, [sum]) => {
        const ks = k0.add(arange(BK));
        const loaded = load(a, [rows, ks.expandDims(0)], { mask: rows.lt(a.dim(0)).and(ks.expandDims(0).lt(a.dim(1))) });
        const x = d === f32 ? loaded : loaded.to(i32).to(bf16).to(f32);
        const w = load(b, [ks.expandDims(1), cols], { mask: ks.expandDims(1).lt(b.dim(0)).and(cols.lt(b.dim(1))) }).permute(0, 1).to(f32);
        return [dot(x, w, sum!)];
      });
      store(c, [rows, cols], acc!, { mask: rows.lt(c.dim(0)).and(cols.lt(c.dim(1))) });
    },
    { grid: ({ M, N }) => [cdiv(M, BM), cdiv(N, bn)] },
  ).build();
const valueChanging = untransposedB(BN);

/**
 * The kernel on the emulator and on the interpreter from the same random inputs, outputs poisoned,
 * compared as `tskc run --check` compares. a and b hold small integers (a halves with `halves`, which
 * truncation changes): every product and sum is exact in f32 and in tf32, whatever its order (the
 * tensor cores' differs from the interpreter's), however many products it has.
 */
async function expectCloseToInterpreter(k: Kernel, symbols: Record<string, number>, scalars: Record<string, number>, options: CudaEmitOptions, what: string, halves = false): Promise<void> {
  const seed = freshSeed();
  const r = rng(seed);
  const args = { ...makeArguments(k, symbols, seed), ...scalars };
  for (const name of ['a', 'b']) {
    const t = args[name] as Tensor;
    t.setValues(t.toValues().map(() => randInt(r, -3, 3) + (halves && name === 'a' ? 0.5 : 0)));
  }
  (args['c'] as Tensor).fill(NaN);
  const want = copyArguments(args);
  await (await emulatedCuda(options).compile(k)).run(args);
  await (await device('interp').compile(k)).run(want);
  const failed = compareOutputs(k, args, want).filter((c) => !c.pass);
  if (failed.length) throw new Error(`${what} ${JSON.stringify({ ...symbols, ...scalars })} (seed ${seed}): ${failed.map((c) => `${c.name} off by up to ${c.maxAbsError}`).join(', ')}`);
}

describe('cp.async pipelines, emulated, == interpreter', () => {
  test('both dots of the inner loop copy both operands ahead; a cast that changes values stays a load', () => {
    const copies = (source: string) => (source.match(/TSKC_CP_ASYNC_(CG16|CA)\(to/g) ?? []).length;
    // Four operands, each in the prologue (2 stages ahead) and the body, each with two paths: inside
    // the tensor (where the bounds masks are on), lane by lane.
    expect(copies(emitCuda(nestedTwoDots, { registerAccumulators: true }).source)).toBe(4 * 3 * 2);
    const changing = emitCuda(valueChanging, { registerAccumulators: true }).source;
    expect(copies(changing)).toBe(1 * 3 * 2);
    expect(changing).toContain('ldmatrix.sync.aligned.m8n8.x4.trans');
  });

  it.each([
    ['3 stages', { registerAccumulators: true }],
    ['2 stages', { registerAccumulators: true, pipelineStages: 2 }],
    ['4 stages', { registerAccumulators: true, pipelineStages: 4 }],
    ['no cp.async', { registerAccumulators: true, pipelineStages: 1 }],
  ] as const)('a pipelined loop with two dots inside another loop, %s', async (what, options) => {
    const r = rng(freshSeed());
    // K = 72 in steps of 16 from 0, then 8: the first inner loop's last iteration reads stage 1, which
    // the second's prologue refills with copies of real data (the race a missing barrier would be).
    const cases = [{ K: 72, J: 3, step: 16 }, ...[0, 2].map((J) => ({ K: randInt(r, 0, 1) ? 8 * randInt(r, 1, 10) : randInt(r, 1, 80), J, step: 16 * randInt(r, 1, 2) }))];
    for (const { K, J, step } of cases) {
      // K a multiple of 8 (whole 16-byte copies), or ragged (lane by lane).
      await expectCloseToInterpreter(nestedTwoDots, { M: randInt(r, 1, 70), N: randInt(r, 1, 40), K }, { J, step }, options, `nested two dots, ${what}`);
    }
  });

  it.each([16, 24])('an operand whose values change on the way to the dot, and b copied k-major, %i-column tiles', async (bn) => {
    const r = rng(freshSeed());
    await expectCloseToInterpreter(untransposedB(bn), { M: randInt(r, 1, 70), N: randInt(r, 1, 60), K: 8 * randInt(r, 1, 10) }, {}, { registerAccumulators: true }, 'value-changing chains', true);
  });

  it('tf32: b untransposed is stored n-major from registers (ldmatrix.trans moves 16-bit elements only)', async () => {
    const k = untransposedB(24, f32);
    expect(emitCuda(k, { registerAccumulators: true, tf32: true }).source).not.toContain('.trans');
    const r = rng(freshSeed());
    await expectCloseToInterpreter(k, { M: randInt(r, 1, 70), N: randInt(r, 1, 60), K: randInt(r, 1, 80) }, {}, { registerAccumulators: true, tf32: true }, 'tf32, b untransposed');
  });
});
