/**
 * Rows read where they are used (backends/c/emit.ts: streamedRow): a load of one contiguous row whose
 * uses read it element by element is not copied to a tile first; each use reads the tensor. The tile
 * path stays for rows that are not whole inside the tensor, for masks not provably all on, and for a
 * row whose tensor shares bytes with one that a later store writes (where reading late would see the
 * store). Every case against the interpreter, bit for bit, outputs poisoned.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import { arange, f32, input, kernel, load, output, programId, store } from '../../../dsl/index.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const testC = testWithCompiler('the C backend streamed-row tests');
jest.setTimeout(120_000);
const cpu = device('cpu', { cache: new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-streamed-'))) });
const interp = device('interp');
const BLOCK = 64;

/** y[r, :] = (a[r, :] - a[r, :]^2) * g[r, :], one program per row (N <= BLOCK): a read twice, g once. */
const glu = kernel('glu', { a: input(f32, ['M', 'N']), g: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ a, g, y }) => {
  const [row, cols] = [programId(0), arange(BLOCK)];
  const ok = cols.lt(a.dim(1));
  const x = load(a, [row, cols], { mask: ok });
  store(y, [row, cols], x.sub(x.mul(x)).mul(load(g, [row, cols], { mask: ok })), { mask: ok });
}, { grid: ({ M }) => [M] });

/** y[r, j + 1] = 2 x[r, j]: launched with y and x the same tensor, each lane writes what the next reads. */
const shift = kernel('shift', { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
  const [row, cols] = [programId(0), arange(BLOCK)];
  const n = x.dim(1);
  const v = load(x, [row, cols], { mask: cols.lt(n) });
  store(y, [row, cols.add(1)], v.mul(2), { mask: cols.add(1).lt(n) });
}, { grid: ({ M }) => [M] });

const random = (r: () => number, shape: [number, number]) => Tensor.fromValues(f32, shape, Float64Array.from({ length: shape[0] * shape[1] }, () => 4 * r() - 2));

describe('rows read where they are used', () => {
  it('reads both rows of the gated product in the store loop', () => {
    const source = emitC(glu.build()).source;
    expect(source.match(/const float \*const row\d+_source = /g)).toHaveLength(2);
  });

  testC.each([
    ['whole rows (the rows read in place)', 5, BLOCK],
    ['rows shorter than the block (the tile path)', 3, BLOCK - 7],
  ])('%s match the interpreter', async (_, m, n) => {
    const seed = freshSeed();
    const make = () => {
      const r = rng(seed);
      return { a: random(r, [m, n]), g: random(r, [m, n]), y: Tensor.fromValues(f32, [m, n], new Float64Array(m * n).fill(NaN)) };
    };
    const [got, want] = [make(), make()];
    (await cpu.compile(glu.build())).launch(got);
    (await interp.compile(glu.build())).launch(want);
    expect(got.y.toValues()).toEqual(want.y.toValues());
  });

  testC('a row whose tensor a later store writes is loaded into its tile first', async () => {
    expect(emitC(shift.build()).source).toContain('tskc_disjoint(');
    const [m, n] = [4, BLOCK];
    const before = random(rng(freshSeed()), [m, n]).toValues();
    const t = Tensor.fromValues(f32, [m, n], before);
    (await cpu.compile(shift.build())).launch({ x: t, y: t });
    // The interpreter's meaning: the whole row is loaded, then stored one column along.
    const want = Float64Array.from(before, (v, i) => (i % n === 0 ? v : 2 * before[i - 1]!));
    expect(t.toValues()).toEqual(want);
    // Separate tensors take the rows in place and agree with the interpreter.
    const [x, y, y2] = [Tensor.fromValues(f32, [m, n], before), Tensor.empty(f32, [m, n]), Tensor.empty(f32, [m, n])];
    (await cpu.compile(shift.build())).launch({ x, y });
    (await interp.compile(shift.build())).launch({ x, y: y2 });
    expect(y.toValues().slice(1)).toEqual(y2.toValues().slice(1));
  });
});
