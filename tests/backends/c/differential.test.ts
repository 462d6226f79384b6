/**
 * The C backend against the reference interpreter: every example, with fresh random shapes and
 * inputs, outputs poisoned before launch; then random programs from tests/fuzz (a quarter of them
 * wide) and random tiled matmuls (its dot blocks at ragged extents, masks with fills, transposes and
 * casts between the loads and the dot). Results must be identical, except after transcendental ops
 * (the C library and V8 may differ in the last bit of a double, which can move a rounded float by one
 * ulp).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { randomMatmul } from '../../fuzz/random-matmul.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';
import { EXAMPLE_CASES, dtypeOf, expectMatmulExact, expectSame, hasF32Transcendentals, runBoth } from '../differential.js';

const cpu = device('cpu', { cache: new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-diff-'))) });

const testC = testWithCompiler('the C backend differential tests');
jest.setTimeout(300_000);

describe('C backend == interpreter', () => {
  testC.each(EXAMPLE_CASES)('%s', async (name, kernel, makeArgs, approximate) => {
    const seed = freshSeed();
    const { got, want } = await runBoth(cpu, kernel, makeArgs(rng(seed)));
    for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, approximate, `${name} (seed ${seed}) output ${out}`, dtypeOf(kernel, out), hasF32Transcendentals(kernel));
  });

  const runs = Number(process.env['TSKC_FUZZ_RUNS'] ?? 40);
  const firstSeed = process.env['TSKC_FUZZ_SEED'] !== undefined ? Number(process.env['TSKC_FUZZ_SEED']) : freshSeed();
  testC(`${runs} random programs (a quarter wide) from seed ${firstSeed}`, async () => {
    for (let i = 0; i < runs; i++) {
      const wide = i % 4 === 3;
      const p = randomProgram((firstSeed + i) >>> 0, 8, wide);
      const { got, want } = await runBoth(cpu, p.kernel, p.makeArgs());
      for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, p.approximate.has(out), `random program ${p.seed}${wide ? ' (wide)' : ''} output ${out}`, dtypeOf(p.kernel, out), hasF32Transcendentals(p.kernel));
    }
  });

  const matmuls = Number(process.env['TSKC_FUZZ_MATMULS'] ?? 8);
  testC(`${matmuls} random tiled matmuls from seed ${firstSeed}`, async () => {
    for (let i = 0; i < matmuls; i++) await expectMatmulExact(cpu, randomMatmul((firstSeed + i) >>> 0));
  });
});
