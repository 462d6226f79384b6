/**
 * The float dot's blocks (backends/c/dot.ts: DotEmitter). Where the C compiler has AVX2 and FMA but not
 * AVX-512, a dot whose tile has at least 6 rows and a multiple of 16 columns keeps 6 x 16 accumulators
 * in named registers (TSKC_FMA8), the rows left over in the portable 1-row block; elsewhere the
 * portable 8 x 16 blocks. Both give the interpreter's bits (one fmaf per step, in index order): each
 * case runs in the machine's own build, in a build that takes TSKC_FMA8 wherever the CPU has AVX2 and
 * FMA (-mno-avx512f, x86-64 only), and in one without vector extensions (the portable blocks).
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import { arange, dot, f32, input, kernel, load, output, store } from '../../../dsl/index.js';
import { freshSeed, rng } from '../../../examples/check.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { DEFAULT_CFLAGS } from '../../../runtime/cpu/toolchain.js';
import { Tensor } from '../../../runtime/tensor.js';
import { nativeMacros, testWithCompiler } from '../../runtime/cpu/harness.js';

const testC = testWithCompiler('the C backend dot block tests');
jest.setTimeout(120_000);
const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-dot-blocks-')));
/** x86-64 only: -mno-avx512f is an x86 flag, and TSKC_FMA8 an x86 path. */
const x64 = process.arch === 'x64';
const builds = {
  native: device('cpu', { cache }),
  ...(x64 ? { 'without AVX-512': device('cpu', { cache, flags: [...DEFAULT_CFLAGS, '-mno-avx512f'] }) } : {}),
  'without vector extensions': device('cpu', { cache, flags: [...DEFAULT_CFLAGS, '-DTSKC_NO_VECTOR_EXTENSIONS'] }),
};
const interp = device('interp');

/** y[m, n] = c + a[m, k] · b[k, n], one tile each. */
function tileDot(m: number, k: number, n: number) {
  return kernel('tile_dot', { a: input(f32, [m, k]), b: input(f32, [k, n]), c: input(f32, [m, n]), y: output(f32, [m, n]) }, ({ a, b, c, y }) => {
    const [rows, cols, ks] = [arange(m).expandDims(1), arange(n).expandDims(0), arange(k)];
    const x = load(a, [rows, ks.expandDims(0)]);
    const w = load(b, [ks.expandDims(1), cols]);
    store(y, [rows, cols], dot(x, w, load(c, [rows, cols])));
  }, { grid: () => [1] });
}

// [m, k, n, whether the register block applies]: rows a multiple of 6 and not (the rest in 1-row
// blocks), and column counts that are not a multiple of 16 (the portable blocks only).
const cases = [
  [6, 5, 16, true],
  [32, 9, 32, true],
  [13, 17, 48, true],
  [5, 8, 16, false],
  [12, 7, 24, false],
] as const;

describe('float dot blocks on the C backend', () => {
  test.each(cases)('%i x %i x %i: the TSKC_FMA8 block is emitted: %s', (m, k, n, registers) => {
    expect(emitC(tileDot(m, k, n).build()).source.includes('#ifdef TSKC_FMA8')).toBe(registers);
  });

  testC('every build gives the interpreter bits, with TSKC_FMA8 defined where the CPU has AVX2 and FMA', async () => {
    // The build without AVX-512 takes the register block wherever the CPU has AVX2 and FMA (as the
    // compiler sees it with -march=native): checked, not assumed.
    const native = nativeMacros();
    const registers = x64 && native.has('__AVX2__') && native.has('__FMA__');
    if (x64) expect(nativeMacros(['-mno-avx512f'], emitC(tileDot(6, 5, 16).build()).source).has('TSKC_FMA8')).toBe(registers);
    if (!registers) process.stderr.write('tskc: no AVX2 + FMA on x86-64 here: the TSKC_FMA8 block is compiled out\n');
    const seed = freshSeed();
    const r = rng(seed);
    const values = (count: number) => Float64Array.from({ length: count }, () => Math.fround(r() * 4 - 2));
    for (const [m, k, n] of cases) {
      const built = tileDot(m, k, n).build();
      const inputs = { a: values(m * k), b: values(k * n), c: values(m * n) };
      const args = () => ({
        a: Tensor.fromValues(f32, [m, k], inputs.a),
        b: Tensor.fromValues(f32, [k, n], inputs.b),
        c: Tensor.fromValues(f32, [m, n], inputs.c),
        y: Tensor.fromValues(f32, [m, n], new Float64Array(m * n).fill(NaN)),
      });
      const want = args();
      (await interp.compile(built)).launch(want);
      for (const [name, dev] of Object.entries(builds)) {
        const got = args();
        (await dev.compile(built)).launch(got);
        expect([`${m}x${k}x${n} ${name} (seed ${seed})`, got.y.toValues()]).toEqual([`${m}x${k}x${n} ${name} (seed ${seed})`, want.y.toValues()]);
      }
    }
  });
});
