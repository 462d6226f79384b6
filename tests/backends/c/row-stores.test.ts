/**
 * The C backend's row loops (backends/c/emit.ts):
 * - index and mask tiles (aranges, their sums and comparisons) are computed at each use instead of
 *   into arrays of their own (recomputable);
 * - a store of whole rows to an output that the kernel does not read streams them past the caches
 *   (TSKC_STREAM, streamRow): plain stores up to the row's first line boundary, streaming stores of
 *   whole 64-byte lines, plain stores for the rest.
 * The streaming build takes -DTSKC_STREAM_MIN_BYTES=0, so that every tensor counts as large. Tiles of
 * [4, BC] over tensors whose rows are not a multiple of the tile's, so that rows start at every
 * alignment and the ragged tiles take the masked path; every case against the interpreter, bit for bit,
 * outputs poisoned.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import type { Dtype } from '../../../compiler/ir/dtype.js';
import { arange, bf16, cdiv, f16, f32, forRange, i32, i8, ifElse, input, kernel, load, output, programId, store, tensor, zeros } from '../../../dsl/index.js';
import { freshSeed, randomTensor, rng } from '../../../examples/check.js';
import { logSoftmaxRows, softmaxRows } from '../../../kernels/rows/softmax.js';
import { layerNormRows } from '../../../kernels/rows/norms.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { DEFAULT_CFLAGS } from '../../../runtime/cpu/toolchain.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { nativeMacros, testWithCompiler } from '../../runtime/cpu/harness.js';

const testC = testWithCompiler('the C backend row-store tests');
jest.setTimeout(120_000);
const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-row-stores-')));
const STREAM_ALWAYS = '-DTSKC_STREAM_MIN_BYTES=0';
const builds = {
  streaming: device('cpu', { cache, flags: [...DEFAULT_CFLAGS, STREAM_ALWAYS] }),
  'without vector extensions': device('cpu', { cache, flags: [...DEFAULT_CFLAGS, STREAM_ALWAYS, '-DTSKC_NO_VECTOR_EXTENSIONS'] }),
};
const interp = device('interp');
const BR = 4;

/** y = x * 3 - 1 in tiles of [BR, BC], converted to dtype d at the store. */
const affineMap = (d: Dtype, BC: number) =>
  kernel(`affine_map_${d.name}`, { x: input(f32, ['M', 'N']), y: output(d, ['M', 'N']) }, ({ x, y }) => {
    const rows = programId(0).mul(BR).add(arange(BR)).expandDims(1);
    const cols = programId(1).mul(BC).add(arange(BC)).expandDims(0);
    const ok = rows.lt(x.dim(0)).and(cols.lt(x.dim(1)));
    store(y, [rows, cols], load(x, [rows, cols], { mask: ok }).mul(3).sub(1).to(d), { mask: ok });
  }, { grid: ({ M, N }) => [cdiv(M, BR), cdiv(N, BC)] });

/**
 * y = x * s[col] + t[row] in tiles of [BR, BC]: s broadcast along the tile's rows, t along its columns,
 * so that the row loops (and the streaming chunks) read each operand by the element's coordinates.
 */
const broadcastOperands = (BC: number) =>
  kernel('broadcast_operands', { x: input(f32, ['M', 'N']), s: input(f32, ['N']), t: input(f32, ['M']), y: output(f32, ['M', 'N']) }, ({ x, s, t, y }) => {
    const [r, c] = [programId(0).mul(BR).add(arange(BR)), programId(1).mul(BC).add(arange(BC))];
    const [rows, cols] = [r.expandDims(1), c.expandDims(0)];
    const ok = rows.lt(x.dim(0)).and(cols.lt(x.dim(1)));
    const scale = load(s, [c], { mask: c.lt(x.dim(1)) });
    const shift = load(t, [r], { mask: r.lt(x.dim(0)) }).expandDims(1);
    store(y, [rows, cols], load(x, [rows, cols], { mask: ok }).mul(scale).add(shift), { mask: ok });
  }, { grid: ({ M, N }) => [cdiv(M, BR), cdiv(N, BC)] });

/** y = x + 1, then x = y, one program per row: y is read back by the kernel, so not streamed. */
const readBack = kernel('read_back', { x: tensor(f32, ['M', 64]), y: tensor(f32, ['M', 64]) }, ({ x, y }) => {
  const [row, cols] = [programId(0), arange(64)];
  store(y, [row, cols], load(x, [row, cols]).add(1));
  store(x, [row, cols], load(y, [row, cols]));
}, { grid: ({ M }) => [M] });

/**
 * y = x·(0 + 1 + 2) on rows 1 on, -x·3 on row 0, one program per row: the column indices and the mask
 * are recomputed inside a loop body and both branches of an if, blocks other than the one they are
 * defined in.
 */
const looped = kernel('looped', { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
  const [row, cols] = [programId(0), arange(64)];
  const ok = cols.lt(x.dim(1));
  const [acc] = forRange(0, 3, 1, [zeros([64], f32)], (i, [sum]) => [sum!.add(load(x, [row, cols], { mask: ok }).mul(i.to(f32)))]);
  ifElse(
    row.ge(1),
    () => {
      store(y, [row, cols], acc!, { mask: ok });
      return [];
    },
    () => {
      store(y, [row, cols], acc!.mul(-1), { mask: ok });
      return [];
    },
  );
}, { grid: ({ M }) => [M] });

/** Poison values for an output of dtype d: NaN for floats; for integers, where every value is one, two runs. */
const poisons = (d: Dtype) => (d.kind === 'float' ? [NaN] : [77, -77]);

async function agree(k: ReturnType<typeof affineMap>, d: Dtype, m: number, n: number): Promise<void> {
  const x = Tensor.fromHostTensor(randomTensor(rng(freshSeed()), [m, n], -40, 40));
  const want = Tensor.empty(d, [m, n]).fill(poisons(d)[0]!);
  (await interp.compile(k.build())).launch({ x, y: want });
  for (const [name, cpu] of Object.entries(builds)) {
    for (const poison of poisons(d)) {
      const y = Tensor.empty(d, [m, n]).fill(poison);
      (await cpu.compile(k.build())).launch({ x, y });
      expect([name, poison, y.toValues()]).toEqual([name, poison, want.toValues()]);
    }
  }
}

describe('row stores on the C backend', () => {
  it('computes index and mask tiles where they are used, not into arrays', () => {
    const source = emitC(softmaxRows(f32).build({ BLOCK_N: 256 })).source;
    // Arrays of a row's elements written before the loads: the column indices, the mask.
    expect(source).not.toMatch(/e < 256; e\+\+\) v\d+\[e\] = \((int32_t|uint8_t)\)/);
  });

  it('computes x - max of a log-softmax at each use, not into an array, and layer norm\'s select into one', () => {
    // A float tile is written to an array by a loop over the row: `vN[e] = ` in a flat loop.
    const written = (source: string) => source.split('\n').filter((l) => /(e < e0 \+ 32|e < 4096); e\+\+\) v\d+\[e\] = /.test(l));
    expect(written(emitC(logSoftmaxRows(f32).build({ BLOCK_N: 4096 })).source)).toHaveLength(0);
    // where(mask, x - mean, 0) stays an array where the row is ragged: a select per element recomputed
    // in the variance's reduction kept GCC from vectorizing it. A row that fills the block has no select
    // (versions.test.ts).
    expect(written(emitC(layerNormRows(f32).build({ BLOCK_N: 4096, EPS: 1e-5 })).source)).toHaveLength(1);
  });

  testC('recomputes index and mask tiles inside loops and branches as the interpreter computes them', async () => {
    expect(emitC(looped.build()).source).not.toMatch(/e < 64; e\+\+\) v\d+\[e\] = \((int32_t|uint8_t)\)/);
    for (const n of [64, 50]) {
      const x = Tensor.fromHostTensor(randomTensor(rng(freshSeed()), [3, n], -4, 4));
      const [got, want] = [Tensor.empty(f32, [3, n]).fill(NaN), Tensor.empty(f32, [3, n]).fill(NaN)];
      (await interp.compile(looped.build())).launch({ x, y: want });
      (await builds.streaming.compile(looped.build())).launch({ x, y: got });
      expect(got.toValues()).toEqual(want.toValues());
    }
  });

  it('streams whole rows of an output only where the kernel does not read it', () => {
    expect(emitC(affineMap(f32, 64).build()).source).toContain('tskc_stream64(out + j, chunk);');
    expect(emitC(readBack.build()).source).not.toContain('tskc_stream64');
    // A row under 256 bytes is not worth it: a line or two between the plain stores around them.
    expect(emitC(affineMap(f32, 32).build()).source).not.toContain('tskc_stream64');
  });

  // [M, N]: whole tiles only, then ragged rows and a ragged last tile of rows.
  testC.each([[8, 128], [9, 150]])('operands broadcast along a tile\'s rows and columns are read by coordinates, %i x %i', async (m, n) => {
    const k = broadcastOperands(64);
    expect(emitC(k.build()).source).toMatch(/\[\(col\)\]/);
    const r = rng(freshSeed());
    const inputs = { x: Tensor.fromHostTensor(randomTensor(r, [m, n], -4, 4)), s: Tensor.fromHostTensor(randomTensor(r, [n], -4, 4)), t: Tensor.fromHostTensor(randomTensor(r, [m], -4, 4)) };
    const want = Tensor.empty(f32, [m, n]).fill(NaN);
    (await interp.compile(k.build())).launch({ ...inputs, y: want });
    for (const [name, cpu] of Object.entries(builds)) {
      const y = Tensor.empty(f32, [m, n]).fill(NaN);
      (await cpu.compile(k.build())).launch({ ...inputs, y });
      expect([name, y.toValues()]).toEqual([name, want.toValues()]);
    }
  });

  testC('the streaming build defines TSKC_STREAM wherever the compiler has AVX', () => {
    const macros = nativeMacros([STREAM_ALWAYS], emitC(affineMap(f32, 64).build()).source);
    expect(macros.has('TSKC_STREAM')).toBe(macros.has('__AVX__'));
  });

  // [dtype, BC, M, N]: rows of 131 to 530 elements start at many alignments; the tiles are 4 to 8 lines
  // long, the last tile of each row is ragged, and so is the last tile of rows (a tile with a row
  // outside the tensor takes the lane-by-lane path, not the boxed one).
  testC.each(
    ([[f32, 64, 9, 150], [f32, 128, 5, 300], [i32, 64, 7, 131], [f16, 128, 6, 300], [bf16, 128, 5, 260], [i8, 256, 6, 530]] as const).map(
      ([d, ...rest]) => [d.name, ...rest, d] as const,
    ),
  )('%s tiles of [4, %i] over %i x %i match the interpreter', async (_, bc, m, n, d) => {
    await agree(affineMap(d, bc), d, m, n);
  });

  testC('the library softmax streams the same bits as it stores', async () => {
    const [m, n] = [5, 256];
    const k = softmaxRows(f32).build({ BLOCK_N: 256 });
    const x = Tensor.fromHostTensor(randomTensor(rng(freshSeed()), [m, n], -8, 8));
    const [got, want] = [Tensor.empty(f32, [m, n]).fill(NaN), Tensor.empty(f32, [m, n]).fill(NaN)];
    (await device('cpu', { cache }).compile(k)).launch({ x, y: want });
    (await builds.streaming.compile(k)).launch({ x, y: got });
    expect(got.toValues()).toEqual(want.toValues());
  });
});
