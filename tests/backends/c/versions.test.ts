/**
 * The C backend emits the rest of a kernel body twice at a where whose mask it can decide all on at
 * run time (backends/c/emit.ts: versioned): once with every where over that mask read as its first
 * operand, once as written. Rows that fill the block take the first version, ragged rows the second;
 * both against the interpreter, bit for bit, outputs poisoned.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import { arange, cdiv, f32, input, kernel, load, output, programId, store, where } from '../../../dsl/index.js';
import { freshSeed, randomTensor, rng } from '../../../examples/check.js';
import { layerNormRows } from '../../../kernels/rows/norms.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { dtypeOf, expectSame, hasF32Transcendentals, runBoth } from '../differential.js';

const testC = testWithCompiler('the C backend version tests');
jest.setTimeout(120_000);
const cpu = device('cpu', { cache: new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-versions-'))) });
const interp = device('interp');
const BLOCK = 64;

/**
 * One program per row: three wheres over the row's mask, one of them of a scalar broadcast to the row,
 * the others read twice each.
 */
const selects = kernel('selects', { x: input(f32, ['M', 'N']), s: input(f32, [1]), y: output(f32, ['M', 'N']) }, ({ x, s, y }) => {
  const [row, cols] = [programId(0), arange(BLOCK)];
  const ok = cols.lt(x.dim(1));
  const t = load(x, [row, cols], { mask: ok, other: 7 });
  const doubled = where(ok, t.mul(2), 0);
  const shifted = where(ok, t.sub(doubled.sum(0)), -1);
  const scalar = where(ok, load(s, [0]), 3);
  store(y, [row, cols], doubled.add(shifted.mul(shifted)).add(scalar), { mask: ok });
}, { grid: ({ M }) => [M] });

/**
 * Tiles of [4, BLOCK]: the mask `rows < M & cols < N` is all on in the tiles inside the tensor, so one
 * launch runs both versions where M and N are not multiples of the tile.
 */
const tiled = kernel('tiled_selects', { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
  const rows = programId(0).mul(4).add(arange(4)).expandDims(1);
  const cols = programId(1).mul(BLOCK).add(arange(BLOCK)).expandDims(0);
  const ok = rows.lt(x.dim(0)).and(cols.lt(x.dim(1)));
  const t = load(x, [rows, cols], { mask: ok, other: 2 });
  const centred = where(ok, t.sub(t.sum(1, { keepDims: true })), -3);
  store(y, [rows, cols], centred.mul(centred).add(centred.max(1, { keepDims: true })), { mask: ok });
}, { grid: ({ M, N }) => [cdiv(M, 4), cdiv(N, BLOCK)] });

async function agree(k: ReturnType<typeof selects.build>, inputs: Record<string, Tensor>, m: number, n: number): Promise<void> {
  const [got, want] = [Tensor.empty(f32, [m, n]).fill(NaN), Tensor.empty(f32, [m, n]).fill(NaN)];
  (await interp.compile(k)).launch({ ...inputs, y: want });
  (await cpu.compile(k)).launch({ ...inputs, y: got });
  expect(got.toValues()).toEqual(want.toValues());
}

describe('two versions of a kernel body on the C backend', () => {
  it('emits the rest of layer norm twice: without the select where the row fills the block', () => {
    const source = emitC(layerNormRows(f32).build({ BLOCK_N: BLOCK, EPS: 1e-5 })).source;
    const body = source.slice(source.indexOf('static int64_t tskc_block('));
    // The mean's sum before the versions, the variance's in each.
    expect(body.match(/tskc_sum_lanes16\(lane\)/g)).toHaveLength(3);
    expect(body.match(/tskc_where_float\(/g)).toHaveLength(1);
  });

  // N = BLOCK: every row whole; under it every row ragged.
  testC.each([BLOCK, 37, 1])('layer norm over rows of %i matches the interpreter', async (n) => {
    const m = 5;
    const r = rng(freshSeed());
    const inputs = { x: Tensor.fromHostTensor(randomTensor(r, [m, n], -4, 4)), w: Tensor.fromHostTensor(randomTensor(r, [n], -2, 2)), b: Tensor.fromHostTensor(randomTensor(r, [n], -2, 2)) };
    await agree(layerNormRows(f32).build({ BLOCK_N: BLOCK, EPS: 1e-5 }), inputs, m, n);
  });

  testC.each([BLOCK, 50])('several wheres over one mask, one of a broadcast scalar, over rows of %i match the interpreter', async (n) => {
    const m = 4;
    const r = rng(freshSeed());
    // doubled's sum, after the split, in each version.
    expect(emitC(selects.build()).source.match(/tskc_sum_lanes16\(lane\)/g)).toHaveLength(2);
    await agree(selects.build(), { x: Tensor.fromHostTensor(randomTensor(r, [m, n], -4, 4)), s: Tensor.fromHostTensor(randomTensor(r, [1], -4, 4)) }, m, n);
  });

  // [M, N]: every tile whole; then ragged rows and columns beside whole tiles.
  testC.each([[8, 2 * BLOCK], [10, 2 * BLOCK + 9]])('[4, BLOCK] tiles over %i x %i take both versions in one launch and match the interpreter', async (m, n) => {
    expect(emitC(tiled.build()).source).toContain('on */');
    await agree(tiled.build(), { x: Tensor.fromHostTensor(randomTensor(rng(freshSeed()), [m, n], -4, 4)) }, m, n);
  });

  // Found by the random programs: a where over a load's mask, read as its first operand (an
  // expression) in the whole version, was the initial value of a loop, which copies it by name.
  testC.each([2668604788, 2668605026])('random program %i: a where over a load mask feeding a loop', async (seed) => {
    const p = randomProgram(seed);
    expect(emitC(p.kernel).source).toContain('on */');
    const { got, want } = await runBoth(cpu, p.kernel, p.makeArgs());
    for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, p.approximate.has(out), `random program ${seed} output ${out}`, dtypeOf(p.kernel, out), hasF32Transcendentals(p.kernel));
  });
});
