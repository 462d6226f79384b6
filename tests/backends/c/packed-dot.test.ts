/**
 * A dot whose b operand is packed codes (integers, or small floats of up to 5 bits) converted to f32 and read nowhere else unpacks each
 * row of b from its words as it multiplies (backends/c/emit.ts: packedDotRows): the same bits as the
 * interpreter, in the 8-row blocks and the single rows, and the tile path where the rows cannot be
 * read in place (off a word boundary, or outside the tensor: the launch fails as it must). The same
 * for codes interleaved one to a word (kernels/lowbit/layout.ts), read by the lane helpers.
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

/**
 * y[m, n] = a[m, KI] · b with b[k, j] = f32(w[offset + (k / P) * width * P + j * P + k mod P]), P = 32 / bits:
 * codes interleaved one to a word across the columns, loaded as [KI / P, P, n] and merged to [KI, n].
 * `rowsPerWord` other than P loads [KI / rowsPerWord, rowsPerWord, n] instead (rows not grouped by word).
 */
const KI = 32;
function interleavedDot(code: Dtype, m: number, n: number, width: number, offset: number, rowsPerWord = 32 / code.bits) {
  const p = 32 / code.bits;
  const length = offset + (KI / p) * width * p;
  const [outer, inner] = [KI / rowsPerWord, rowsPerWord];
  return kernel('interleaved_dot', { a: input(f32, [m, KI]), w: input(code, [length]), y: output(f32, [m, n]) }, ({ a, w, y }) => {
    const k = arange(outer).reshape([outer, 1, 1]).mul(inner).add(arange(inner).reshape([1, inner, 1])); // [outer, inner, 1]
    const index = k.div(p).mul(width * p).add(k.rem(p)).add(arange(n).reshape([1, 1, n]).mul(p)).add(offset);
    const b = load(w, [inner === p ? arange(outer).reshape([outer, 1, 1]).mul(width * p).add(arange(p).reshape([1, p, 1])).add(arange(n).reshape([1, 1, n]).mul(p)).add(offset) : index]).to(f32).reshape([KI, n]);
    const x = load(a, [arange(m).expandDims(1), arange(KI).expandDims(0)]);
    store(y, [arange(m).expandDims(1), arange(n).expandDims(0)], dot(x, b, zeros([m, n], f32)));
  }, { grid: () => [1] });
}

function interleavedArgs(code: Dtype, m: number, length: number, n: number, seed: number) {
  const r = rng(seed);
  return {
    a: Tensor.fromValues(f32, [m, KI], Float64Array.from({ length: m * KI }, () => Math.fround(4 * r() - 2))),
    w: Tensor.fromValues(code, [length], Float64Array.from({ length }, () => code.minValue + Math.floor(r() * (code.maxValue - code.minValue + 1)))),
    y: Tensor.fromValues(f32, [m, n], new Float64Array(m * n).fill(NaN)),
  };
}

describe('a dot reads codes interleaved one to a word with the lane helpers', () => {
  testC.each([
    ['u4, 9 rows of a (an 8-row block and a single row)', 'u4', 9, 32, 48, 0, 8, true],
    ['u1, 32 rows to a word', 'u1', 1, 16, 16, 0, 32, true],
    ['u2, 3 rows of a', 'u2', 3, 32, 32, 32, 16, true],
    ['i4, signed codes', 'i4', 2, 16, 16, 0, 8, true],
    ['i2, signed codes', 'i2', 1, 16, 16, 0, 16, true],
    ['f4e2m1, values from the table', 'f4e2m1', 9, 32, 32, 0, 8, true],
    ['u4 off a word boundary (the tile path at run time)', 'u4', 2, 16, 16, 3, 8, true],
    ['u4 with 4-row groups, not one word each (the tile path)', 'u4', 1, 16, 16, 0, 4, false],
    ['u4 with 8 columns, under one lane helper (the tile path)', 'u4', 1, 8, 8, 0, 8, false],
  ] as const)('%s', async (_, name, m, n, width, offset, rowsPerWord, inPlace) => {
    const code = dtype(name);
    const def = interleavedDot(code, m, n, width, offset, rowsPerWord);
    expect(emitC(def.build()).source.includes('tskc_lanes')).toBe(inPlace);
    const seed = freshSeed();
    const length = offset + (KI / (32 / code.bits)) * width * (32 / code.bits);
    const [got, want] = [interleavedArgs(code, m, length, n, seed), interleavedArgs(code, m, length, n, seed)];
    (await cpu.compile(def.build())).launch(got);
    (await interp.compile(def.build())).launch(want);
    expect(got.y.toValues()).toEqual(want.y.toValues());
  });

  testC('rows outside the tensor fail the launch, as on the interpreter', async () => {
    // Columns 0..31 of a 16-word-wide layout: the last rows' words are past the end.
    const def = interleavedDot(dtype('u4'), 1, 32, 16, 0);
    const a = interleavedArgs(dtype('u4'), 1, (KI / 8) * 16 * 8, 32, freshSeed());
    for (const d of [interp, cpu]) {
      const k = await d.compile(def.build());
      await expect((async () => k.launch(a))()).rejects.toThrow('outside');
    }
  });
});
