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
import { arange, f32, forRange, i32, ifElse, input, kernel, load, output, programId, store } from '../../../dsl/index.js';
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

/**
 * The row of x, then stores in nested regions: in a loop, y[r, j + 1] = 2 x[r, j] + i32(x[r, j]); after
 * it, in a branch, y[r, 0] = i32(x[r, 0]) + 1. With y and x the same tensor, every read must see x as
 * it was at the load (the interpreter decodes each argument on its own, so it cannot check this).
 */
const nested = kernel('nested', { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
  const [row, cols] = [programId(0), arange(BLOCK)];
  const v = load(x, [row, cols]);
  const truncated = v.to(i32);
  forRange(0, 2, 1, [], () => {
    store(y, [row, cols.add(1)], v.mul(2).add(truncated.to(f32)), { mask: cols.lt(BLOCK - 1) });
    return [];
  });
  ifElse(row.ge(0), () => {
    store(y, [row, cols], truncated.to(f32).add(1), { mask: cols.eq(0) });
    return [];
  }, () => []);
}, { grid: ({ M }) => [M] });

/** An i32 row read by a reduction, a permuted view and a cast: out[r, j] = f32(x[r, j]) + sum(x[r, :]). */
const readers = kernel('readers', { x: input(i32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
  const [row, cols] = [programId(0), arange(BLOCK)];
  const v = load(x, [row, cols]);
  const column = v.reshape([BLOCK, 1]).permute(1, 0).reshape([BLOCK]);
  store(y, [row, cols], column.to(f32).add(v.sum(0).to(f32)));
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
    expect(emitC(shift.build()).source).toMatch(/const int row\d+ = .* && tskc_disjoint\(/);
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

  testC('stores in a loop and a branch after the load do not change what it read', async () => {
    // The row's flag checks the tensor against both later stores (the streaming stores' flags aside).
    const flag = emitC(nested.build()).source.split('\n').find((l) => /const int row\d+ = /.test(l));
    expect(flag?.match(/&& tskc_disjoint\(/g)).toHaveLength(2);
    const [m, n] = [3, BLOCK];
    const before = random(rng(freshSeed()), [m, n]).toValues();
    const t = Tensor.fromValues(f32, [m, n], before);
    (await cpu.compile(nested.build())).launch({ x: t, y: t });
    const want = Float64Array.from(before, (_, i) => {
      const b = i % n === 0 ? before[i]! : before[i - 1]!;
      return i % n === 0 ? Math.trunc(b) + 1 : Math.fround(Math.fround(2 * b) + Math.trunc(b));
    });
    expect(t.toValues()).toEqual(want);
  });

  testC('an i32 row read by a reduction, a permuted view and a cast matches the interpreter', async () => {
    expect(emitC(readers.build()).source).toMatch(/const int32_t \*const row\d+_source = /);
    const r = rng(freshSeed());
    const x = Tensor.fromValues(i32, [4, BLOCK], Float64Array.from({ length: 4 * BLOCK }, () => Math.floor(2000 * r()) - 1000));
    const [got, want] = [Tensor.fromValues(f32, [4, BLOCK], new Float64Array(4 * BLOCK).fill(NaN)), Tensor.fromValues(f32, [4, BLOCK], new Float64Array(4 * BLOCK).fill(NaN))];
    (await cpu.compile(readers.build())).launch({ x, y: got });
    (await interp.compile(readers.build())).launch({ x, y: want });
    expect(got.toValues()).toEqual(want.toValues());
  });
});
