/**
 * A dot whose b operand is packed codes (integers, or small floats of up to 5 bits) converted to f32 and read nowhere else unpacks each
 * row of b from its words as it multiplies (backends/c/emit.ts: packedDotRows): the same bits as the
 * interpreter, in the 8-row blocks and the single rows, and the tile path where the rows cannot be
 * read in place (off a word boundary, or outside the tensor: the launch fails as it must).
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import { type Dtype, arange, dot, dtype, f32, input, kernel, load, output, store, zeros } from '../../../dsl/index.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const testC = testWithCompiler('the C backend packed dot tests');
jest.setTimeout(120_000);
const cpu = device('cpu', { cache: new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-packed-dot-'))) });
const interp = device('interp');
const K = 16;

/** y[m, n] = a[m, K] · f32(w[K, offset : offset + n]) with w [K, width]. */
function packedDot(code: Dtype, m: number, n: number, width: number, offset: number) {
  return kernel('packed_dot', { a: input(f32, [m, K]), w: input(code, [K, width]), y: output(f32, [m, n]) }, ({ a, w, y }) => {
    const b = load(w, [arange(K).expandDims(1), arange(n).expandDims(0).add(offset)]).to(f32);
    const x = load(a, [arange(m).expandDims(1), arange(K).expandDims(0)]);
    store(y, [arange(m).expandDims(1), arange(n).expandDims(0)], dot(x, b, zeros([m, n], f32)));
  }, { grid: () => [1] });
}

function args(code: Dtype, m: number, width: number, n: number, seed: number) {
  const r = rng(seed);
  return {
    a: Tensor.fromValues(f32, [m, K], Float64Array.from({ length: m * K }, () => Math.fround(4 * r() - 2))),
    w: Tensor.fromValues(code, [K, width], Float64Array.from({ length: K * width }, () => code.minValue + Math.floor(r() * (code.maxValue - code.minValue + 1)))),
    y: Tensor.fromValues(f32, [m, n], new Float64Array(m * n).fill(NaN)),
  };
}

describe('a dot unpacks its packed b rows in place', () => {
  testC.each([
    ['u4, 9 rows of a (an 8-row block and a single row)', 'u4', 9, 32, 32, 0, true],
    ['i3, 1 row of a, signed codes', 'i3', 1, 64, 64, 0, true],
    ['u6, 3 rows of a, codes that straddle words', 'u6', 3, 32, 48, 16, true],
    ['u4 off a word boundary (the tile path at run time)', 'u4', 3, 32, 40, 1, true],
    ['u3 with 16-column blocks (not whole groups of 32: the tile path)', 'u3', 8, 32, 32, 0, false],
    ['f4e2m1, values from a table in one register', 'f4e2m1', 9, 32, 32, 0, true],
    ['f3e1m1, a table of 8 values', 'f3e1m1', 2, 32, 32, 0, true],
    ['f5e2m2, a table in two registers', 'f5e2m2', 1, 64, 64, 0, true],
    ['f6e3m2, too many values for registers (the tile path)', 'f6e3m2', 1, 32, 32, 0, false],
    ['u8 codes (bytes, not packed: the tile path)', 'u8', 1, 32, 32, 0, false],
    ['u32 codes, some past 2^31 (the tile path)', 'u32', 1, 16, 16, 0, false],
  ] as const)('%s', async (_, name, m, n, width, offset, inPlace) => {
    const code = dtype(name);
    const def = packedDot(code, m, n, width, offset);
    expect(emitC(def.build()).source.includes('if (rows')).toBe(inPlace);
    const seed = freshSeed();
    const [got, want] = [args(code, m, width, n, seed), args(code, m, width, n, seed)];
    (await cpu.compile(def.build())).launch(got);
    (await interp.compile(def.build())).launch(want);
    expect(got.y.toValues()).toEqual(want.y.toValues());
  });

  testC('rows outside the tensor fail the launch, as on the interpreter', async () => {
    const def = packedDot(dtype('u4'), 2, 32, 40, 16);
    const a = args(dtype('u4'), 2, 40, 32, freshSeed());
    for (const d of [interp, cpu]) {
      const k = await d.compile(def.build());
      await expect((async () => k.launch(a))()).rejects.toThrow('outside');
    }
  });
});
