/**
 * A dot whose b operand is packed codes (integers, or small floats: by a table in registers up to 6 bits, by shifts past them) converted to f32 and read nowhere else unpacks each
 * row of b from its words as it multiplies (backends/c/emit.ts: packedDotRows): the same bits as the
 * interpreter, in the 8-row blocks and the single rows, and the tile path where the rows cannot be
 * read in place (off a word boundary, or outside the tensor: the launch fails as it must). The same
 * for codes interleaved one to a word (kernels/lowbit/layout.ts), read by the lane helpers. Each case
 * also runs in a build with -DTSKC_CHECK_PACKED_DOT, where the tile path fails the launch: the path
 * the case expects is the one that ran.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import { FMA8_HEAD } from '../../../backends/c/dot.js';
import type { Kernel } from '../../../compiler/ir/index.js';
import type { FloatDtype } from '../../../compiler/ir/dtype.js';
import { decodeFloat } from '../../../compiler/ir/float-format.js';
import { type Dtype, arange, dot, dtype, f32, input, kernel, load, output, store, zeros } from '../../../dsl/index.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { nativeMacros, testWithCompiler } from '../../runtime/cpu/harness.js';
import { DEFAULT_CFLAGS } from '../../../runtime/cpu/toolchain.js';

const testC = testWithCompiler('the C backend packed dot tests');
jest.setTimeout(120_000);
const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-packed-dot-')));
const cpu = device('cpu', { cache });
const checked = device('cpu', { cache, flags: [...DEFAULT_CFLAGS, '-DTSKC_CHECK_PACKED_DOT'] });
/** Where a case's dot reads b: in place, or in the tile path (for want of the in-place code, or at run time). */
type Path = 'in place' | 'tile at run time' | 'tile';

/** Without vector extensions: the helpers' plain C paths. */
const plain = device('cpu', { cache, flags: [...DEFAULT_CFLAGS, '-DTSKC_NO_VECTOR_EXTENSIONS'] });
/** On x86-64, without AVX-512: the lane helpers' 8-lane path, whichever path this CPU's own build takes. */
const noAvx512 = process.arch === 'x64' ? [device('cpu', { cache, flags: [...DEFAULT_CFLAGS, '-mno-avx512f'] })] : [];

/**
 * Runs `built` on the C backend (and on `more` C builds) and the interpreter on the same arguments,
 * and checks the path taken.
 */
async function expectPath(built: Kernel, path: Path, args: () => Record<string, Tensor>, more: readonly ReturnType<typeof device>[] = []): Promise<void> {
  expect(emitC(built).source.includes('#ifdef TSKC_CHECK_PACKED_DOT')).toBe(path !== 'tile');
  const want = args();
  (await interp.compile(built)).launch(want);
  for (const d of [cpu, ...more]) {
    const got = args();
    (await d.compile(built)).launch(got);
    expect(got['y']!.toValues()).toEqual(want['y']!.toValues());
  }
  const checkedKernel = await checked.compile(built);
  const run = () => checkedKernel.launch(args());
  if (path === 'tile at run time') expect(run).toThrow('took its tile path');
  else expect(run).not.toThrow();
}
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

/** A value of `code`: any integer of its range, or for a small float the value of any of its codes (subnormals, -0). */
function randomValue(code: Dtype, r: () => number): number {
  if (code.kind === 'float') return decodeFloat(code as FloatDtype, Math.floor(r() * 2 ** code.bits));
  return code.minValue + Math.floor(r() * (code.maxValue - code.minValue + 1));
}

function args(code: Dtype, m: number, width: number, n: number, seed: number, xOf = (r: () => number) => Math.fround(4 * r() - 2)) {
  const r = rng(seed);
  return {
    a: Tensor.fromValues(f32, [m, K], Float64Array.from({ length: m * K }, () => xOf(r))),
    w: Tensor.fromValues(code, [K, width], Float64Array.from({ length: K * width }, () => randomValue(code, r))),
    y: Tensor.fromValues(f32, [m, n], new Float64Array(m * n).fill(NaN)),
  };
}

describe('a dot unpacks its packed b rows in place', () => {
  testC.each([
    ['u4, 9 rows of a (an 8-row block and a single row)', 'u4', 9, 32, 32, 0, 'in place'],
    ['i3, 1 row of a, signed codes', 'i3', 1, 64, 64, 0, 'in place'],
    ['u6, 3 rows of a, codes that straddle words', 'u6', 3, 32, 48, 16, 'in place'],
    ['u6, 9 rows of a (an 8-row block of 16-lane helpers, and a single row)', 'u6', 9, 32, 48, 16, 'in place'],
    ['u4 off a word boundary', 'u4', 3, 32, 40, 1, 'tile at run time'],
    ['u3 with 16-column blocks (not whole groups of 32)', 'u3', 8, 32, 32, 0, 'tile'],
    ['f4e2m1, values from a table in one register', 'f4e2m1', 9, 32, 32, 0, 'in place'],
    ['f3e1m1, a table of 8 values', 'f3e1m1', 2, 32, 32, 0, 'in place'],
    ['f5e2m2, a table in two registers', 'f5e2m2', 1, 64, 64, 0, 'in place'],
    ['f6e3m2, magnitudes from a table in two registers, the sign by an or', 'f6e3m2', 3, 32, 32, 0, 'in place'],
    ['f6e2m3, magnitudes from a table, 9 rows', 'f6e2m3', 9, 32, 64, 32, 'in place'],
    ['f7e3m3, decoded by shifts (too many values for registers)', 'f7e3m3', 3, 32, 32, 0, 'in place'],
    ['u8 codes (bytes, not packed)', 'u8', 1, 32, 32, 0, 'tile'],
    ['u32 codes, some past 2^31', 'u32', 1, 16, 16, 0, 'tile'],
  ] as const)('%s', async (_, name, m, n, width, offset, path) => {
    const code = dtype(name);
    const seed = freshSeed();
    await expectPath(packedDot(code, m, n, width, offset).build(), path, () => args(code, m, width, n, seed), [plain, ...noAvx512]);
  });

  it('looks up the magnitudes of 6-bit small floats, and decodes wider ones by shifts', () => {
    const helper = (name: string) => /TSKC_FN void tskc_unpack\d+_\w+\(const uint32_t \*w, float \*out\) \{[^]*?\n\}/.exec(emitC(packedDot(dtype(name), 3, 32, 64, 0).build()).source)![0];
    expect(helper('f6e3m2')).toContain('__builtin_shuffle(lo, hi, v0) | ((v0 << 26) & 0x80000000u)');
    expect(helper('f7e3m3')).not.toContain('__builtin_shuffle(lo');
    expect(helper('f7e3m3')).toContain('0x1p124f');
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

describe('a single row reads codes packed one after the other through byte shuffles', () => {
  // With AVX2 and FMA (TSKC_BYTES8; for the small floats that 16-lane helpers look up in registers,
  // TSKC_FMA8, without AVX-512: the -mno-avx512f build), a single row of a and 32-column multiples of
  // integer codes or small floats: each 8 codes from their bytes (tskc_bytes helpers), codes that
  // straddle bytes and words included, small floats decoded by shifts. The first row starts at
  // `offset` codes, on a word.
  testC.each([
    ['u3', 32, 32, 0],
    ['i3', 64, 96, 32],
    ['u5', 32, 64, 32],
    ['i5', 64, 64, 0],
    ['u6', 96, 96, 0],
    ['i6', 32, 48, 16],
    ['u7', 32, 64, 32],
    ['i7', 64, 64, 0],
    ['u1', 32, 32, 0],
    ['i2', 64, 64, 0],
    ['u4', 128, 128, 0],
    ['f6e3m2', 32, 32, 0],
    ['f6e2m3', 64, 96, 32],
    ['f5e2m2', 32, 64, 32],
    ['f4e2m1', 64, 64, 0],
    ['f3e1m1', 32, 96, 32],
    ['f7e3m3', 64, 96, 32],
  ] as const)('%s, %i columns of a %i-wide tensor from column %i', async (name, n, width, offset) => {
    const code = dtype(name);
    const seed = freshSeed();
    const def = packedDot(code, 1, n, width, offset);
    const suffix = { signed: 'sf', unsigned: 'uf', float: code.name } as Record<string, string>;
    const source = emitC(def.build()).source;
    expect(source).toContain(`tskc_bytes${code.bits}_${suffix[code.kind]}_32(bq`);
    // Small floats of up to 6 bits take the byte shuffles only without AVX-512, the others wherever there are AVX2 and FMA.
    const rowGuards = [...source.matchAll(/\n\s+#ifdef (TSKC_FMA8|TSKC_BYTES8)\n/g)].map((g) => g[1]);
    expect(rowGuards).toEqual([code.kind === 'float' && code.bits <= 6 ? 'TSKC_FMA8' : 'TSKC_BYTES8']);
    await expectPath(def.build(), 'in place', () => args(code, 1, width, n, seed), [plain, ...noAvx512]);
  });

  // Unsigned codes: each masked in place after the byte shuffle, code * 2^s for the lane's bit s,
  // against x / 2^s (packedRows8), where every x of the row scales exactly; tiny x takes the shifts.
  testC.each([
    ['u3', 64, 64, false],
    ['u5', 32, 64, false],
    ['u6', 96, 96, false],
    ['u7', 64, 64, false],
    ['u3', 32, 32, true],
    ['u7', 32, 32, true],
  ] as const)('%s, %i columns of a %i-wide tensor, x scaled (tiny x: %s)', async (name, n, width, tinyX) => {
    const code = dtype(name);
    const seed = freshSeed();
    const def = packedDot(code, 1, n, width, 0);
    expect(emitC(def.build()).source).toContain(`tskc_bytes${code.bits}_uf_32_scaled(bq`);
    const tiny = (r: () => number) => Math.fround(2 ** -122 * (r() < 0.5 ? -1 : 1) * (1 + r()));
    await expectPath(def.build(), 'in place', () => args(code, 1, width, n, seed, tinyX ? tiny : undefined), [plain, ...noAvx512]);
  });

  testC('the byte-shuffle rows are on wherever there are AVX2 and FMA; TSKC_FMA8 only without AVX-512', () => {
    // What FMA8_HEAD defines, as the compiler sees it in this machine's build and in the -mno-avx512f one.
    const native = nativeMacros();
    const avx2 = process.arch === 'x64' && native.has('__AVX2__') && native.has('__FMA__');
    const head = FMA8_HEAD.join('\n');
    const builds = [{ flags: [], avx512: native.has('__AVX512F__') }, ...(process.arch === 'x64' ? [{ flags: ['-mno-avx512f'], avx512: false }] : [])];
    for (const { flags, avx512 } of builds) {
      const macros = nativeMacros(flags, head);
      expect([macros.has('TSKC_BYTES8'), macros.has('TSKC_FMA8')]).toEqual([avx2, avx2 && !avx512]);
    }
    if (!avx2) process.stderr.write('tskc: no AVX2 + FMA on x86-64 here: the byte-shuffle rows are compiled out\n');
  });

  it('takes the 16-lane helpers for rows of under 32 columns', () => {
    expect(emitC(packedDot(dtype('u3'), 1, 16, 32, 0).build()).source).not.toContain('tskc_bytes');
  });
});

/**
 * y[m, n] = a[m, KI] · b with b[k, j] = f32(w[offset + (k / P) * outerStep + j * P + k mod P]), P = 32 / bits:
 * codes interleaved one to a word across the columns (outerStep = width * P: whole words), loaded as
 * [KI / P, P, n] and merged to [KI, n]. `rowsPerWord` other than P loads [KI / rowsPerWord, rowsPerWord, n]
 * instead (rows not grouped by word).
 */
const KI = 32;
function interleavedDot(code: Dtype, m: number, n: number, width: number, offset: number, rowsPerWord = 32 / code.bits, outerStep = width * (32 / code.bits)) {
  const p = 32 / code.bits;
  const [outer, inner] = [KI / rowsPerWord, rowsPerWord];
  return kernel('interleaved_dot', { a: input(f32, [m, KI]), w: input(code, [interleavedLength(code, width, offset, outerStep)]), y: output(f32, [m, n]) }, ({ a, w, y }) => {
    const columns = arange(n).reshape([1, 1, n]).mul(p).add(offset);
    const k = arange(outer).reshape([outer, 1, 1]).mul(inner).add(arange(inner).reshape([1, inner, 1])); // [outer, inner, 1]
    const index = inner === p ? arange(outer).reshape([outer, 1, 1]).mul(outerStep).add(arange(p).reshape([1, p, 1])).add(columns) : k.div(p).mul(outerStep).add(k.rem(p)).add(columns);
    const b = load(w, [index]).to(f32).reshape([KI, n]);
    const x = load(a, [arange(m).expandDims(1), arange(KI).expandDims(0)]);
    store(y, [arange(m).expandDims(1), arange(n).expandDims(0)], dot(x, b, zeros([m, n], f32)));
  }, { grid: () => [1] });
}

/** The length of w for interleavedDot: through the last row group, of width columns. */
function interleavedLength(code: Dtype, width: number, offset: number, outerStep: number): number {
  const p = 32 / code.bits;
  return offset + (KI / p - 1) * outerStep + width * p;
}

function interleavedArgs(code: Dtype, m: number, length: number, n: number, seed: number, xOf = (r: () => number, _i: number) => Math.fround(4 * r() - 2)) {
  const r = rng(seed);
  return {
    a: Tensor.fromValues(f32, [m, KI], Float64Array.from({ length: m * KI }, (_, i) => xOf(r, i))),
    w: Tensor.fromValues(code, [length], Float64Array.from({ length }, () => randomValue(code, r))),
    y: Tensor.fromValues(f32, [m, n], new Float64Array(m * n).fill(NaN)),
  };
}

describe('a dot reads codes interleaved one to a word with the lane helpers', () => {
  testC.each([
    ['u4, 9 rows of a (an 8-row block and a single row)', 'u4', 9, 32, 48, 0, 8, 0, 'in place'],
    ['u1, 32 rows to a word', 'u1', 1, 16, 16, 0, 32, 0, 'in place'],
    ['u2, 3 rows of a', 'u2', 3, 32, 32, 32, 16, 0, 'in place'],
    ['i4, signed codes', 'i4', 2, 16, 16, 0, 8, 0, 'in place'],
    ['i2, signed codes', 'i2', 1, 16, 16, 0, 16, 0, 'in place'],
    ['f4e2m1, values from the table', 'f4e2m1', 9, 32, 32, 0, 8, 0, 'in place'],
    // Single rows of 32-column multiples: with AVX2 and FMA (TSKC_FMA8) their accumulators are registers.
    ['i4, signed codes, single rows of 32 columns', 'i4', 3, 32, 32, 0, 8, 0, 'in place'],
    ['i2, signed codes, a single row of 64 columns', 'i2', 1, 64, 64, 0, 16, 0, 'in place'],
    ['u1, single rows of 32 columns', 'u1', 2, 32, 32, 0, 32, 0, 'in place'],
    ['u4 off a word boundary, 32 columns', 'u4', 1, 32, 32, 3, 8, 0, 'tile at run time'],
    ['u4 off a word boundary', 'u4', 2, 16, 16, 3, 8, 0, 'tile at run time'],
    ['u4 with row groups 4 codes past whole words', 'u4', 2, 16, 16, 0, 8, 4, 'tile at run time'],
    ['u2 with row groups one code past whole words', 'u2', 1, 16, 16, 0, 16, 1, 'tile at run time'],
    ['u4 with 4-row groups, not one word each', 'u4', 1, 16, 16, 0, 4, 0, 'tile'],
    ['u4 with 8 columns, under one lane helper', 'u4', 1, 8, 8, 0, 8, 0, 'tile'],
  ] as const)('%s', async (_, name, m, n, width, offset, rowsPerWord, extraStep, path) => {
    const code = dtype(name);
    const outerStep = width * (32 / code.bits) + extraStep;
    const seed = freshSeed();
    const def = interleavedDot(code, m, n, width, offset, rowsPerWord, outerStep);
    if (path === 'in place') expect(emitC(def.build()).source.includes('tskc_lanes')).toBe(true);
    await expectPath(def.build(), path, () => interleavedArgs(code, m, interleavedLength(code, width, offset, outerStep), n, seed), [plain, ...noAvx512]);
  });

  // Unsigned codes, single rows of 64-column multiples (TSKC_FMA8): each code is masked in place, code
  // * 2^s, against x / 2^s (lane8RowScaled), where every x of the row scales exactly; other rows take
  // the shifts (lane8Row). Tiny x (a subnormal quotient drops bits; every x is tiny, so that the
  // products are not lost in larger ones) and a NaN take the shifts.
  const tiny = (r: () => number) => Math.fround(2 ** -120 * (r() < 0.5 ? -1 : 1) * (1 + r()));
  const nan = (r: () => number, i: number) => (i === 40 ? NaN : Math.fround(4 * r() - 2));
  const subnormals = (r: () => number) => Math.fround(2 ** -140 * Math.floor(r() * 64));
  testC.each([
    ['u4, a single row', 'u4', 1, 64, undefined],
    ['u4, 9 rows of a', 'u4', 9, 128, undefined],
    ['u2, a single row', 'u2', 1, 64, undefined],
    ['u1, a single row', 'u1', 2, 64, undefined],
    ['u4, x near 2^-120', 'u4', 2, 64, tiny],
    ['u4, a row with a NaN', 'u4', 2, 64, nan],
    ['u2, subnormal x', 'u2', 1, 64, subnormals],
  ] as const)('unsigned codes against scaled x: %s', async (_, name, m, n, xOf) => {
    const code = dtype(name);
    const seed = freshSeed();
    const def = interleavedDot(code, m, n, n, 0);
    expect(emitC(def.build()).source).toContain(`tskc_lanes${code.bits}_uf_scaled8`);
    await expectPath(def.build(), 'in place', () => interleavedArgs(code, m, interleavedLength(code, n, 0, n * (32 / code.bits)), n, seed, xOf), [plain, ...noAvx512]);
  });

  testC('rows outside the tensor fail the launch, as on the interpreter', async () => {
    // Columns 0..31 of a 16-word-wide layout: the last rows' words are past the end.
    const def = interleavedDot(dtype('u4'), 1, 32, 16, 0);
    const a = interleavedArgs(dtype('u4'), 1, interleavedLength(dtype('u4'), 16, 0, 16 * 8), 32, freshSeed());
    for (const d of [interp, cpu]) {
      const k = await d.compile(def.build());
      await expect((async () => k.launch(a))()).rejects.toThrow('outside');
    }
  });
});
