/**
 * Random programs through the CUDA backend, run on the CPU emulator, against the interpreter, as the C
 * and WGSL backends are fuzzed (fresh seeds each run, outputs poisoned, results identical except after
 * transcendental ops): the small programs of tests/fuzz/random-program.ts and some of its wide ones
 * (tiles over several warps); then random tiled matmuls (tests/fuzz/random-matmul.ts), each under its
 * drawn CUDA options, which reach what the programs never do (their dots never take mma.sync): mma.sync
 * with staged and register accumulators, ldmatrix (.trans), tf32, cp.async pipelines of 1 to 4 stages,
 * operands staged once, two dots to a loop. TSKC_FUZZ_RUNS, TSKC_FUZZ_MATMULS and TSKC_FUZZ_SEED choose
 * how many and from where; skips, saying why, without g++ and C++20's <barrier>.
 */
import { jest } from '@jest/globals';
import { freshSeed } from '../../../examples/check.js';
import { randomMatmul } from '../../fuzz/random-matmul.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { dtypeOf, expectMatmulExact, expectSame, hasF32Transcendentals, runBoth } from '../differential.js';
import { emulatedCuda, emulatorMissing } from './emulator/emulate.js';

jest.setTimeout(900_000);
const missing = await emulatorMissing();
if (missing) process.stderr.write(`tskc: skipping the emulated CUDA random programs: ${missing}\n`);
const it = missing ? test.skip : test;

// Each kernel is a g++ build (1-3 s here): fewer than the C backend's 40 programs.
const runs = Number(process.env['TSKC_FUZZ_RUNS'] ?? 12);
const matmuls = Number(process.env['TSKC_FUZZ_MATMULS'] ?? 8);
const firstSeed = process.env['TSKC_FUZZ_SEED'] !== undefined ? Number(process.env['TSKC_FUZZ_SEED']) : freshSeed();

describe('generated CUDA of random programs, emulated, == interpreter', () => {
  it(`${runs} random programs (a quarter wide) from seed ${firstSeed}`, async () => {
    const device = emulatedCuda();
    for (let i = 0; i < runs; i++) {
      const p = randomProgram((firstSeed + i) >>> 0, 8, i % 4 === 3, false);
      const { got, want } = await runBoth(device, p.kernel, p.makeArgs());
      for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, p.approximate.has(out), `random program ${p.seed}${i % 4 === 3 ? ' (wide)' : ''} output ${out}`, dtypeOf(p.kernel, out), hasF32Transcendentals(p.kernel));
    }
  });

  it(`${matmuls} random tiled matmuls from seed ${firstSeed}`, async () => {
    for (let i = 0; i < matmuls; i++) {
      const p = randomMatmul((firstSeed + i) >>> 0);
      await expectMatmulExact(emulatedCuda(p.options), p);
    }
  });
});
