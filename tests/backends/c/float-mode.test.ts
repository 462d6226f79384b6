/**
 * Kernels keep the interpreter's subnormals whatever the host set: with x86's flush-to-zero and
 * denormals-are-zero on in the calling thread (as a library built with gcc's -ffast-math sets them),
 * a kernel's threads clear both while they run (backends/c/emit.ts: IEEE_HEAD) and the caller's mode
 * is back after the launch. Checked on subnormal arithmetic, and on small floats whose decoding by
 * shifts passes through f32 subnormals (f4e2m1's 0.5 and -0.5), in the machine's build and in the
 * -mno-avx512f one (the AVX2 byte-shuffle rows). x86-64 only.
 */
import { jest } from '@jest/globals';
import koffi from 'koffi';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arange, dot, f32, f4e2m1, input, kernel, load, output, programId, store, zeros } from '../../../dsl/index.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { DEFAULT_CFLAGS, compileSharedObject } from '../../../runtime/cpu/toolchain.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { scratchDir, testWithCompiler } from '../../runtime/cpu/harness.js';

const x64 = process.arch === 'x64';
const testC = x64 ? testWithCompiler('the C backend float-mode tests') : test.skip;
jest.setTimeout(120_000);
const dir = scratchDir('tskc-float-mode-');
const interp = device('interp');

/** MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6). */
const FTZ_DAZ = 0x8040;

/** get/set of the calling thread's MXCSR, from a small shared object. */
async function mxcsr(): Promise<{ get: () => number; set: (v: number) => void }> {
  const source = join(dir(), 'mxcsr.c');
  writeFileSync(source, '#include <xmmintrin.h>\nunsigned get_csr(void) { return _mm_getcsr(); }\nvoid set_csr(unsigned v) { _mm_setcsr(v); }\n');
  const so = join(dir(), 'mxcsr.so');
  await compileSharedObject(source, so);
  const lib = koffi.load(so);
  return { get: lib.func('uint32_t get_csr(void)') as () => number, set: lib.func('void set_csr(uint32_t v)') as (v: number) => void };
}

/** y = x * 2^-20, one program: subnormal inputs and results. */
const scaled = kernel('scaled', { x: input(f32, [64]), y: output(f32, [64]) }, ({ x, y }) => {
  const i = programId(0).mul(64).add(arange(64));
  store(y, [i], load(x, [i]).mul(2 ** -20));
}, { grid: () => [1] });

/** y[1, 32] = a[1, 16] · f32(w[16, 32]): one single row of f4e2m1 codes. */
const decoded = kernel('decoded', { a: input(f32, [1, 16]), w: input(f4e2m1, [16, 32]), y: output(f32, [1, 32]) }, ({ a, w, y }) => {
  const b = load(w, [arange(16).expandDims(1), arange(32).expandDims(0)]).to(f32);
  const x = load(a, [arange(1).expandDims(1), arange(16).expandDims(0)]);
  store(y, [arange(1).expandDims(1), arange(32).expandDims(0)], dot(x, b, zeros([1, 32], f32)));
}, { grid: () => [1] });

describe('kernels run with subnormals whatever the caller set', () => {
  testC('flush-to-zero and denormals-are-zero in the caller change no result, and stay set after', async () => {
    const csr = await mxcsr();
    const cache = new ArtifactCache(join(dir(), 'cache'));
    const builds = [device('cpu', { cache }), device('cpu', { cache, flags: [...DEFAULT_CFLAGS, '-mno-avx512f'] })];
    const x = Tensor.fromValues(f32, [64], Float64Array.from({ length: 64 }, (_, i) => (i - 32) * 2 ** -120));
    // Weights of ±0.5 and ±1.5 (f4e2m1 codes 1, 9, 3, 11): the first two decode through f32 subnormals.
    const w = Tensor.fromValues(f4e2m1, [16, 32], Float64Array.from({ length: 16 * 32 }, (_, i) => [0.5, -0.5, 1.5, -1.5][i % 4]!));
    const a = Tensor.fromValues(f32, [1, 16], Float64Array.from({ length: 16 }, (_, i) => i + 1));
    const want = { scaled: Tensor.empty(f32, [64]), decoded: Tensor.empty(f32, [1, 32]) };
    (await interp.compile(scaled.build())).launch({ x, y: want.scaled });
    (await interp.compile(decoded.build())).launch({ a, w, y: want.decoded });
    expect(want.scaled.toValues().some((v) => v !== 0 && Math.abs(v) < 2 ** -126)).toBe(true);
    const before = csr.get();
    try {
      for (const cpu of builds) {
        const [k1, k2] = [await cpu.compile(scaled.build()), await cpu.compile(decoded.build())];
        csr.set(before | FTZ_DAZ);
        const got = { scaled: Tensor.empty(f32, [64]), decoded: Tensor.empty(f32, [1, 32]) };
        k1.launch({ x, y: got.scaled });
        k2.launch({ a, w, y: got.decoded });
        expect(csr.get() & FTZ_DAZ).toBe(FTZ_DAZ);
        csr.set(before);
        expect(got.scaled.toValues()).toEqual(want.scaled.toValues());
        expect(got.decoded.toValues()).toEqual(want.decoded.toValues());
      }
    } finally {
      csr.set(before);
    }
  });
});
