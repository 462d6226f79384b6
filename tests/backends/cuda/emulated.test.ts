/**
 * The CUDA backend's generated code run on the CPU (emulator/: threads as OS threads, mma.sync from
 * the PTX fragment definitions) against the interpreter, at shapes that are not multiples of the
 * tiles, outputs poisoned: the examples; the tensor-core dots the GPU runs only where a session has
 * one (the linear layers and attention, with the accumulator staged, in registers, and on FMA); and a
 * kernel of each family of the library (every library kernel with TSKC_EMULATED_ALL=1). Skips, saying why, without g++ and C++20's <barrier>.
 */
import { jest } from '@jest/globals';
import { type CudaEmitOptions, emitCuda } from '../../../backends/cuda/index.js';
import { arange, cdiv, dot, input, kernel, load, output, programId, scalar, store, zeros } from '../../../dsl/index.js';
import { bf16, dtype, f16, f32 } from '../../../compiler/ir/dtype.js';
import type { Kernel } from '../../../compiler/ir/ir.js';
import { freshSeed, randInt, randomTensor, rng } from '../../../examples/check.js';
import { flashAttention } from '../../../kernels/attention.js';
import { linear } from '../../../kernels/linear.js';
import { lowbitGemv } from '../../../kernels/lowbit/gemv.js';
import { compareOutputs, copyArguments } from '../../../bin/launch-inputs.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { libraryKernels } from '../../../kernels/index.js';
import { libraryArguments, libraryShapes, roundedToTf32, tf32DotUlps } from '../../kernels/library-arguments.js';
import { EXAMPLE_CASES, dtypeOf, expectSame, poisoned, runBoth } from '../differential.js';
import { emulatedCuda, emulatorMissing } from './emulator/emulate.js';

jest.setTimeout(600_000);
const missing = await emulatorMissing();
if (missing) process.stderr.write(`tskc: skipping the emulated CUDA tests: ${missing}\n`);
const it = missing ? test.skip : test;

/**
 * The kernel on the emulator and on the interpreter from the same random inputs, outputs poisoned,
 * compared as `tskc run --check` compares (compareOutputs: floats within 4 units in the last place of
 * the tensor's largest magnitude, or `floatUlps`, the rest exactly).
 */
async function expectCloseToInterpreter(kernel: Kernel, symbols: Record<string, number>, options: CudaEmitOptions, what: string, roundForReference: readonly string[] = [], floatUlps = 4): Promise<void> {
  const seed = freshSeed();
  const args = libraryArguments(kernel, symbols, seed);
  for (const a of kernel.args) if (a.type.kind === 'tensor' && a.type.access === 'out') (args[a.name!] as Tensor).fill(NaN);
  const want = copyArguments(args);
  // The interpreter's dot of tf32 operands: the tensors a tf32 dot reads, rounded as the kernel rounds them.
  roundedToTf32(want, roundForReference);
  await (await emulatedCuda(options).compile(kernel)).run(args);
  await (await device('interp').compile(kernel)).run(want);
  const failed = compareOutputs(kernel, args, want, floatUlps).filter((c) => !c.pass);
  if (failed.length) throw new Error(`${what} ${JSON.stringify(symbols)} (seed ${seed}): ${failed.map((c) => `${c.name} off by up to ${c.maxAbsError}`).join(', ')}`);
}

/** One kernel of each family of the library: row reductions, bf16 packing, an inout tensor, erf, a loop with logs, packed and straddling codes, small floats, the GEMV's three forms. */
const LIBRARY_SAMPLE = [
  'softmax_bf16',
  'layer_norm_f32',
  'rms_norm_residual_bf16',
  'geglu_bf16',
  'rotary_bf16',
  'cross_entropy_bf16',
  'gemv_bf16_u4_zp',
  'gemv_f16_u3_zp',
  'gemm_bf16_f6e3m2',
  'gemv_bf16_u4_zp_tileacc',
  'gemv_f32_u4_zp_tiled128x128_dot',
];
const library = Object.values(libraryKernels).filter((def) => process.env['TSKC_EMULATED_ALL'] === '1' || LIBRARY_SAMPLE.includes(def.name));

describe('generated CUDA, emulated on the CPU, == interpreter', () => {
  test('the library sample names library kernels', () => {
    expect(LIBRARY_SAMPLE.filter((name) => !Object.values(libraryKernels).some((def) => def.name === name))).toEqual([]);
  });

  it.each(library.map((def) => [def.name, def] as const))('library kernel %s', async (name, def) => {
    const symbols = libraryShapes(name, def.params)(rng(freshSeed()));
    // At most 6 rows of programs: every block costs its threads' start (OS threads), and the ragged
    // extents, which the tiles see, are the others.
    if (symbols['M'] !== undefined) symbols['M'] = Math.min(symbols['M'], 6);
    await expectCloseToInterpreter(def.build(), symbols, {}, name);
  });

  // The u4 GEMV's tile accumulator with steps of 4 and 8 groups of 128 (each lane its own column's scale),
  // the GPU bench's longer steps: K of 2 to 6 groups, so steps across groups and ragged last steps.
  it.each([
    ['BN 8, BK 512, on 128 threads', { BN: 8, BK: 512, GROUP: 128 }, { threads: 128 }],
    ['BN 4, BK 1024, on 128 threads', { BN: 4, BK: 1024, GROUP: 128 }, { threads: 128 }],
  ] as const)('low-bit GEMV u4, tile accumulator, steps of several groups: %s', async (what, params, options) => {
    const kernel = lowbitGemv(bf16, dtype('u4'), true, { accumulate: 'tile' }).build(params);
    const r = rng(freshSeed());
    const groups = randInt(r, 2, 6);
    await expectCloseToInterpreter(kernel, { M: randInt(r, 1, 3), N: randInt(r, 1, 40), K: 128 * groups, G: groups }, options, `gemv u4 tile accumulator ${what}`);
  });

  it.each(EXAMPLE_CASES)('%s', async (name, kernel, makeArgs, approximate) => {
    const seed = freshSeed();
    const { got, want } = await runBoth(emulatedCuda(), kernel, makeArgs(rng(seed)));
    for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, approximate, `${name} (seed ${seed}) output ${out}`, dtypeOf(kernel, out), true);
  });

  // The linear layer's dot three ways: mma.sync with the accumulator staged, in registers (the default)
  // (one pair of row iterations at 64 x 64 on 128 threads; two at 128 x 64; on 256 threads), and FMA.
  // In registers, the operands are copied ahead by cp.async (3 stages unless said): 16 bytes at a time
  // where K is a multiple of 8 (every row's chunks aligned), lane by lane where it is not.
  it.each([
    ['bf16, tensor cores, accumulator staged', bf16, {}, { registerAccumulators: false }, 'ragged'],
    ['f16, tensor cores, accumulator staged', f16, {}, { registerAccumulators: false }, 'ragged'],
    ['bf16, on FMA', bf16, {}, { tensorCores: false }, 'ragged'],
    ['bf16, accumulator in registers, 64x64x32 on 128 threads', bf16, {}, { registerAccumulators: true }, 'aligned'],
    ['bf16, accumulator in registers, 64x64x32 on 128 threads, ragged K', bf16, {}, { registerAccumulators: true }, 'ragged'],
    ['bf16, accumulator in registers, 64x64x32 on 128 threads, 2 stages', bf16, {}, { registerAccumulators: true, pipelineStages: 2 }, 'aligned'],
    ['bf16, accumulator in registers, 64x64x32 on 128 threads, no cp.async', bf16, {}, { registerAccumulators: true, pipelineStages: 1 }, 'aligned'],
    ['f16, accumulator in registers, 128x64x16 on 128 threads, 4 stages', f16, { BM: 128, BN: 64, BK: 16 }, { registerAccumulators: true, threads: 128, pipelineStages: 4 }, 'aligned'],
    ['bf16, accumulator in registers, 128x128x32 on 256 threads', bf16, { BM: 128, BN: 128, BK: 32 }, { registerAccumulators: true }, 'aligned'],
    // Warps twice as tall (four row iterations a thread): the GPU bench's 128x128 matmul on 128 threads.
    ['bf16, accumulator in registers, 128x128x32 on 128 threads', bf16, { BM: 128, BN: 128, BK: 32 }, { registerAccumulators: true, threads: 128 }, 'ragged'],
    // An odd number of 8-column blocks: ldmatrix loads b for two at a time.
    ['bf16, accumulator in registers, 64x24x16 on 128 threads', bf16, { BM: 64, BN: 24, BK: 16 }, { registerAccumulators: true }, 'ragged'],
  ] as const)('linear + bias + gelu + residual, %s', async (what, d, params, options, k) => {
    const kernel = linear(d, { bias: true, activation: 'gelu', residual: true }).build(params);
    const r = rng(freshSeed());
    const K = k === 'aligned' ? 8 * randInt(r, 1, 13) : 8 * randInt(r, 0, 12) + randInt(r, 1, 7);
    await expectCloseToInterpreter(kernel, { M: randInt(r, 1, 150), K, N: randInt(r, 1, 150) }, options, `linear ${what}`);
  });

  // f32 dots on tensor cores (tf32): against the interpreter's dot of x and w rounded to tf32, so that
  // only the order of the sums differs, within tf32DotUlps (a kernel that left its operands unrounded,
  // or truncated them as the hardware would, is off by 2^-11 of a product: about 2000 ulps).
  it.each([
    ['staged', { tf32: true, registerAccumulators: false }, 'ragged'],
    ['accumulator in registers, 3 cp.async stages', { tf32: true, registerAccumulators: true }, 'aligned'],
    ['accumulator in registers, ragged K', { tf32: true, registerAccumulators: true }, 'ragged'],
    ['accumulator in registers, no cp.async', { tf32: true, registerAccumulators: true, pipelineStages: 1 }, 'aligned'],
  ] as const)('linear f32 + bias + relu on tf32 tensor cores, %s', async (what, options, k) => {
    const kernel = linear(f32, { bias: true, activation: 'relu' }).build({});
    const r = rng(freshSeed());
    const K = k === 'aligned' ? 4 * randInt(r, 1, 26) : 8 * randInt(r, 0, 12) + randInt(r, 1, 3);
    await expectCloseToInterpreter(kernel, { M: randInt(r, 1, 150), K, N: randInt(r, 1, 150) }, options, `linear f32 tf32 ${what}`, ['x', 'w'], tf32DotUlps(K));
  });

  // With the accumulators in registers, the row statistics stay in the fragments' rows and p @ v
  // takes p's A fragments from registers: with and without cp.async, and at 64 x 32 on 64 threads
  // (two pairs of row iterations per thread).
  it.each([
    ['tensor cores, accumulators staged', { registerAccumulators: false }, 32],
    ['accumulators in registers', { registerAccumulators: true }, 32],
    ['accumulators in registers, no cp.async', { registerAccumulators: true, pipelineStages: 1 }, 32],
    ['accumulators in registers, 64x32 tiles on 64 threads', { registerAccumulators: true, threads: 64 }, 64],
  ] as const)('flash attention bf16, causal and not, %s', async (what, options, BM) => {
    for (const causal of [false, true]) {
      const kernel = flashAttention(bf16, causal).build({ BM, BN: 32, BLOCK_D: 32, SCALE: 0.2 });
      // On the register path p's A fragments are the words of its bf16 codes (p.to(bf16) held packed).
      if ((options as { registerAccumulators?: boolean }).registerAccumulators) expect(emitCuda(kernel, options).source).toMatch(/const uint32_t fa0 = v\d+w\[/);
      const r = rng(freshSeed());
      await expectCloseToInterpreter(kernel, { B: 1, H: randInt(r, 1, 2), S: randInt(r, 1, 140), D: randInt(r, 1, 32) }, options, `attention${causal ? ' causal' : ''} ${what}`);
    }
  });

  // A dot's a taken from its fragment registers while its expression reads a scalar argument (named
  // a0 in the generated code, as the packed fragment registers must not be).
  it('a dot whose a, of the fragment layout, is a broadcast scalar argument', async () => {
    const [M, N, K] = [64, 64, 32];
    const k = kernel('scalar_a', { s: scalar(bf16), x: input(bf16, [M, K]), w: input(bf16, [K, N]), w2: input(bf16, [N, N]), c: output(f32, [M, N]) }, ({ s, x, w, w2, c }) => {
      const [i, j, q] = [arange(M).expandDims(1), arange(N).expandDims(0), arange(K)];
      const first = dot(load(x, [i, q.expandDims(0)]).to(f32), load(w, [q.expandDims(1), j]).to(f32), zeros([M, N], f32));
      const rows = arange(N).expandDims(1);
      store(c, [i, j], dot(s.broadcastTo([M, N]).to(f32), load(w2, [rows, j]).to(f32), first));
    }, { grid: () => [1] }).build();
    expect(emitCuda(k, { registerAccumulators: true }).source).toMatch(/const uint32_t fa0 = /);
    await expectCloseToInterpreter(k, {}, { registerAccumulators: true }, 'scalar a');
  });

  // bf16 tiles held as their codes, two to a register (emit.ts packed16): a load stored whole and
  // widened, a product rounded to bf16 and stored (encoded at the store) and widened again (held as
  // codes), and a rounding of index values (recomputed where stored), at ragged N so that the masked
  // per-element paths run too: bit for bit.
  it('bf16 values held as codes: loaded, rounded, stored and widened, bit for bit', async () => {
    const codes = kernel('bf16_codes', { x: input(bf16, ['M', 'N']), w: input(f32, ['N']), y: output(bf16, ['M', 'N']), z: output(bf16, ['M', 'N']), u: output(bf16, ['M', 'N']), ramp: output(bf16, ['M', 'N']) }, ({ x, w, y, z, u, ramp }) => {
      const [row, cols] = [programId(0), arange(256)];
      const ok = cols.lt(x.dim(1));
      const t = load(x, [row, cols], { mask: ok });
      store(z, [row, cols], t, { mask: ok });
      const scaled = t.to(f32).mul(load(w, [cols], { mask: ok }));
      store(y, [row, cols], scaled.to(bf16), { mask: ok });
      const rounded = scaled.add(0.375).to(bf16);
      store(u, [row, cols], rounded, { mask: ok });
      store(y, [row, cols], rounded.to(f32).mul(scaled).to(bf16), { mask: ok.and(cols.lt(7)) });
      store(ramp, [row, cols], cols.add(row.mul(256)).to(f32).mul(0.37).to(bf16), { mask: ok });
    }, { grid: ({ M }) => [M] }).build();
    const source = emitCuda(codes, { threads: 64 }).source;
    expect(source).toContain('= u.word[v / 2];'); // x's words loaded, and z's stored, whole
    expect(source).toMatch(/u\.word\[v \/ 2\] = v\d+w\[/);
    const r = rng(freshSeed());
    const [m, n] = [randInt(r, 1, 5), randInt(r, 1, 256)];
    const { got, want } = await runBoth(emulatedCuda({ threads: 64 }), codes, {
      x: randomTensor(r, [m, n], -8, 8, bf16),
      w: randomTensor(r, [n], -3, 3),
      y: poisoned(bf16, [m, n]),
      z: poisoned(bf16, [m, n]),
      u: poisoned(bf16, [m, n]),
      ramp: poisoned(bf16, [m, n]),
    });
    for (const out of ['y', 'z', 'u', 'ramp']) expectSame(got[out]!, want[out]!, false, `bf16_codes M=${m} N=${n} output ${out}`, bf16);
  });

  // Several rows to a program, each read a row ahead (kernels/rows/row.ts eachRow): the loop carries
  // the next row's tile; the last program's rows run past M.
  it.each(['softmax_bf16', 'layer_norm_bf16', 'rms_norm_bf16'] as const)('%s with ROWS = 3, each row read a row ahead', async (name) => {
    const def = libraryKernels[name]!;
    const r = rng(freshSeed());
    const symbols = { M: 3 * randInt(r, 1, 2) + randInt(r, 1, 2), N: randInt(r, 100, 500) }; // not a multiple of 3
    await expectCloseToInterpreter(def.build({ BLOCK_N: 512, ROWS: 3 }), symbols, {}, `${name} ROWS=3`);
  });

  // Masks that the box test implies are not tested per lane inside the tensor: bounds masks (of the
  // tensor's own extents, or another tensor's bound to the same symbols) must be, and masks crossed
  // (rows against the column count) must not be taken for them: with M != N they differ.
  it('bounds masks skipped inside the tensor, crossed masks kept, at ragged shapes', async () => {
    const masked = (name: string, crossed: boolean) =>
      kernel(name, { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
        const [rows, cols] = [programId(0).mul(16).add(arange(16)).expandDims(1), programId(1).mul(64).add(arange(64)).expandDims(0)];
        const inside = rows.lt(x.dim(0)).and(cols.lt(x.dim(1)));
        const ok = crossed ? inside.and(rows.lt(x.dim(1))).and(cols.lt(x.dim(0))) : inside;
        store(y, [rows, cols], load(x, [rows, cols], { mask: ok, other: -1 }).mul(2), { mask: ok });
      }, { grid: ({ M, N }) => [cdiv(M, 16), cdiv(N, 64)] }).build();
    const r = rng(freshSeed());
    for (const crossed of [false, true]) {
      const k = masked(crossed ? 'crossed_masks' : 'bounds_masks', crossed);
      expect(emitCuda(k).source.includes('} else if (')).toBe(crossed);
      await expectCloseToInterpreter(k, { M: randInt(r, 17, 80), N: randInt(r, 65, 200) }, {}, crossed ? 'crossed masks' : 'bounds masks');
    }
  });
});
