/**
 * Rows that run past the end of the tensor's last dim (backends/clike/affine.ts: boxedAccess's
 * `clipped`): the last chunk of a row walked in chunks reads and writes its lanes inside as a run of
 * memory, and the lanes past the end must be off, or the launch fails as the interpreter's does.
 * Every case against the interpreter, bit for bit, outputs poisoned, at shapes that are not multiples
 * of the chunk: 1-D chunks, 2-D blocks whose rows also leave the tensor, a mask that leaves a lane on
 * past the end, a chunk that starts past the end, and packed codes.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import { type Dtype, arange, cdiv, f32, forRange, gridAdd, input, kernel, load, output, programId, store, u4 } from '../../../dsl/index.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const testC = testWithCompiler('the C backend clipped-row tests');
jest.setTimeout(120_000);
const cpu = device('cpu', { cache: new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-clipped-'))) });
const interp = device('interp');
const CHUNK = 32;

/** y[r, :] = 2 x[r, :] + 1, one program per row walking it in chunks of CHUNK; `past` lanes on past the end. */
const chunked = (past: number, d: Dtype = f32) =>
  kernel(`chunked_${past}`, { x: input(d, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
    const row = programId(0);
    const n = x.dim(1);
    forRange(0, n, CHUNK, [], (c0) => {
      const cols = c0.add(arange(CHUNK));
      const v = load(x, [row, cols], { mask: cols.lt(n.add(past)) }).to(f32);
      store(y, [row, cols], v.mul(2).add(1), { mask: cols.lt(n) });
      return [];
    });
  }, { grid: ({ M }) => [M] });

/** y = x + 3 in blocks of 4 x CHUNK, one program per block; `extra` more column blocks than N needs. */
const blocks = (extra: number) =>
  kernel(`blocks_${extra}`, { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
    const rows = programId(0).mul(4).add(arange(4)).expandDims(1);
    const cols = programId(1).mul(CHUNK).add(arange(CHUNK)).expandDims(0);
    const ok = rows.lt(x.dim(0)).and(cols.lt(x.dim(1)));
    store(y, [rows, cols], load(x, [rows, cols], { mask: ok }).add(3), { mask: ok });
  }, { grid: ({ M, N }) => [cdiv(M, 4), gridAdd(cdiv(N, CHUNK), extra)] });

function values(d: Dtype, count: number, r: () => number): Float64Array {
  return Float64Array.from({ length: count }, () => (d === f32 ? Math.fround(4 * r() - 2) : Math.floor(16 * r())));
}

/** Runs `built` on the C backend and the interpreter on the same fresh inputs; the outputs, poisoned first. */
async function bothWays(built: ReturnType<ReturnType<typeof chunked>['build']>, d: Dtype, m: number, n: number) {
  const seed = freshSeed();
  const make = () => ({ x: Tensor.fromValues(d, [m, n], values(d, m * n, rng(seed))), y: Tensor.fromValues(f32, [m, n], new Float64Array(m * n).fill(NaN)) });
  const [got, want] = [make(), make()];
  (await cpu.compile(built)).launch(got);
  (await interp.compile(built)).launch(want);
  return { got: got.y.toValues(), want: want.y.toValues() };
}

describe('rows that run past the end of the last dim', () => {
  it('read and write the last chunk of a row as a run of memory', () => {
    expect(emitC(chunked(0).build()).source.match(/const int64_t inside = /g)).toHaveLength(2); // the load and the store
  });

  testC.each([
    ['a row of 3 chunks and a part', 3, 3 * CHUNK + 7],
    ['a row shorter than a chunk', 2, 5],
    ['whole chunks only', 2, 2 * CHUNK],
  ])('1-D chunks, %s', async (_, m, n) => {
    const { got, want } = await bothWays(chunked(0).build(), f32, m, n);
    expect(got).toEqual(want);
    expect(got.some((v) => Number.isNaN(v))).toBe(false);
  });

  testC.each([
    ['rows and columns both ragged', 7, 2 * CHUNK + 3, 0],
    ['column blocks past the end (every lane off)', 4, CHUNK + 1, 2],
  ])('2-D blocks, %s', async (_, m, n, extra) => {
    const { got, want } = await bothWays(blocks(extra).build(), f32, m, n);
    expect(got).toEqual(want);
    expect(got.some((v) => Number.isNaN(v))).toBe(false);
  });

  testC('packed u4 codes in a clipped chunk', async () => {
    const { got, want } = await bothWays(chunked(0, u4).build(), u4, 3, CHUNK + 9);
    expect(got).toEqual(want);
  });

  testC('a lane on past the end fails the launch, as on the interpreter', async () => {
    const built = chunked(1).build();
    const x = Tensor.fromValues(f32, [2, CHUNK + 5], values(f32, 2 * (CHUNK + 5), rng(freshSeed())));
    for (const d of [interp, cpu]) {
      const k = await d.compile(built);
      expect(() => k.launch({ x, y: Tensor.empty(f32, [2, CHUNK + 5]) })).toThrow('outside');
    }
  });
});
