import * as fs from 'node:fs';
import * as path from 'node:path';
import koffi from 'koffi';
import { LoaderError, loadKernelLibrary, placeStorage, statusMessage } from '../../../runtime/cpu/loader.js';
import { compileSharedObject } from '../../../runtime/cpu/toolchain.js';
import { Tensor, allocateStorage } from '../../../runtime/tensor.js';
import { scratchDir, testWithCompiler } from './harness.js';

const withCompiler = testWithCompiler('the CPU kernel loader tests');
const scratch = scratchDir('tskc-loader-test-');

/**
 * A hand-written kernel in the generated-kernel ABI: c = a + alpha * b over n = symbols[0] floats, in
 * blocks of symbols[1] elements, one block per grid[0] index, blocks in parallel with OpenMP. The last
 * block is masked; a block that starts past the end would store outside c (argument 3), and a block
 * size <= 0 is a loop with a non-positive step. It echoes grid and symbols into argument 4.
 */
const KERNEL = `#include <stdint.h>
void tskc_kernel(void *const *args, const int64_t *symbols, const int64_t *grid, int64_t *status) {
  const float *a = args[0];
  const float *b = args[1];
  const float alpha = (float)*(const double *)args[2];
  float *c = args[3];
  int64_t *echo = args[4];
  const int64_t n = symbols[0], block = symbols[1];
  for (int k = 0; k < 3; k++) echo[k] = grid[k];
  echo[3] = n;
  echo[4] = block;
  if (block <= 0) {
    *status = -1;
    return;
  }
  int64_t err = 0;
#pragma omp parallel for reduction(max : err)
  for (int64_t p = 0; p < grid[0]; p++) {
    const int64_t start = p * block;
    if (start >= n) {
      err = 4;
      continue;
    }
    const int64_t end = start + block < n ? start + block : n;
    for (int64_t i = start; i < end; i++) c[i] = a[i] + alpha * b[i];
  }
  if (err != 0) *status = err;
}
`;

const NO_ENTRY = `int not_a_kernel(void) { return 1; }\n`;

let kernelPath = '';
let noEntryPath = '';

beforeAll(async () => {
  if (!withCompilerAvailable()) return;
  kernelPath = path.join(scratch(), 'axpy.so');
  noEntryPath = path.join(scratch(), 'no-entry.so');
  fs.writeFileSync(path.join(scratch(), 'axpy.c'), KERNEL);
  fs.writeFileSync(path.join(scratch(), 'no-entry.c'), NO_ENTRY);
  await Promise.all([
    compileSharedObject(path.join(scratch(), 'axpy.c'), kernelPath),
    compileSharedObject(path.join(scratch(), 'no-entry.c'), noEntryPath),
  ]);
});

function withCompilerAvailable(): boolean {
  return withCompiler === test;
}

/** What the kernel computes, in float32 as C does it with -ffp-contract=off. */
function reference(a: Float32Array, b: Float32Array, alpha: number): number[] {
  const al = Math.fround(alpha);
  return Array.from(a, (x, i) => Math.fround(x + Math.fround(al * b[i]!)));
}

function randomFloats(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 100);
}

describe('loadKernelLibrary', () => {
  withCompiler('calls tskc_kernel with tensors, a scalar, symbols and grid, zero-copy', () => {
    const n = 1000;
    const block = 64;
    const a = Tensor.fromValues('f32', [n], randomFloats(n));
    const b = Tensor.fromValues('f32', [n], randomFloats(n));
    const c = Tensor.empty('f32', [n]);
    const echo = new BigInt64Array(5);
    const lib = loadKernelLibrary(kernelPath);
    try {
      const grid = Math.ceil(n / block);
      expect(lib.call([a.storage, b.storage, 0.75, c.storage, echo], [n, block], [grid, 2, 3])).toBe(0);
      expect(Array.from(c.storage)).toEqual(reference(a.storage as Float32Array, b.storage as Float32Array, 0.75));
      expect(Array.from(echo)).toEqual([BigInt(grid), 2n, 3n, BigInt(n), BigInt(block)]);

      // A BigInt64Array of symbols, a grid of one extent (padded with 1s), a scalar that is not a float.
      c.fill(0);
      expect(lib.call([a.storage, b.storage, 0.1, c.storage, echo], BigInt64Array.of(BigInt(n), 100n), [10])).toBe(0);
      expect(Array.from(c.storage)).toEqual(reference(a.storage as Float32Array, b.storage as Float32Array, 0.1));
      expect(Array.from(echo)).toEqual([10n, 1n, 1n, BigInt(n), 100n]);
    } finally {
      lib.close();
    }
  });

  withCompiler('a view into a larger buffer passes its own start', () => {
    const big = new Float32Array(20).fill(-1);
    const out = big.subarray(5, 15);
    const a = Float32Array.from({ length: 10 }, (_, i) => i);
    const lib = loadKernelLibrary(kernelPath);
    try {
      expect(lib.call([a, a, 2, out, new BigInt64Array(5)], [10, 4], [3])).toBe(0);
      expect(Array.from(big)).toEqual([...new Array(5).fill(-1), ...a.map((x) => 3 * x), ...new Array(5).fill(-1)]);
    } finally {
      lib.close();
    }
  });

  withCompiler('returns the status the kernel sets', () => {
    const a = new Float32Array(10);
    const lib = loadKernelLibrary(kernelPath);
    try {
      const args = [a, a, 1, new Float32Array(10), new BigInt64Array(5)];
      expect(lib.call(args, [10, 4], [4])).toBe(4); // block 3 starts at 12, past the end of c
      expect(statusMessage(4, ['a', 'b', 'alpha', 'c'])).toBe('an unmasked access went outside tensor argument 3 (c)');
      expect(lib.call(args, [10, 0], [1])).toBe(-1);
      expect(statusMessage(-1)).toContain('non-positive step');
      expect(lib.call(args, [10, 4], [3])).toBe(0); // zeroed before each call
      expect(lib.call(args, [10, 4], [0])).toBe(0); // an empty grid runs nothing
    } finally {
      lib.close();
    }
  });

  withCompiler('close, then load again and call: the OpenMP runtime stays loaded', () => {
    const a = Float32Array.of(1, 2, 3);
    for (let round = 0; round < 3; round++) {
      const lib = loadKernelLibrary(kernelPath);
      const c = new Float32Array(3);
      expect(lib.call([a, a, 1, c, new BigInt64Array(5)], [3, 1], [3])).toBe(0);
      expect(Array.from(c)).toEqual([2, 4, 6]);
      lib.close();
      lib.close();
      expect(() => lib.call([a, a, 1, c, new BigInt64Array(5)], [3, 1], [3])).toThrow(/closed/);
    }
  });

  withCompiler('bad arguments are LoaderErrors before anything runs', () => {
    const lib = loadKernelLibrary(kernelPath);
    const a = new Float32Array(4);
    const args = [a, a, 1, a, new BigInt64Array(5)];
    try {
      expect(() => lib.call(args, [4, 2], [1, 1, 1, 1])).toThrow(/1 to 3 extents/);
      expect(() => lib.call(args, [4, 2], [-1])).toThrow(/non-negative integers/);
      expect(() => lib.call(args, [4.5, 2], [1])).toThrow(/symbol 0 is 4.5/);
      expect(() => lib.call([a, {} as Float32Array], [4, 2], [1])).toThrow(/argument 1 is neither/);
    } finally {
      lib.close();
    }
  });

  withCompiler('a missing file or entry point is a LoaderError naming the library', () => {
    const missing = path.join(scratch(), 'missing.so');
    expect(() => loadKernelLibrary(missing)).toThrow(LoaderError);
    expect(() => loadKernelLibrary(missing)).toThrow(`cannot load kernel library ${missing}`);
    expect(() => loadKernelLibrary(noEntryPath)).toThrow(`${noEntryPath} does not export tskc_kernel`);
  });
});

describe('tensor storage on cache lines and huge pages', () => {
  // Where each byte of a typed array lies, by libc's memset (a length of 0 returns its pointer).
  const memset = koffi.load('libc.so.6').func('void *memset(void *s, int c, size_t n)');
  const address = (a: ArrayBufferView) => koffi.address(memset(new Uint8Array(a.buffer, a.byteOffset, 1), 0, 0)) as bigint;

  it('starts large storage on a 64-byte line once the CPU runtime gives addresses, zeroed and of its size', () => {
    placeStorage();
    for (const [d, count] of [['f32', 1 << 16], ['u4', 3 << 14], ['bf16', 5000], ['u8', 4096]] as const) {
      const t = Tensor.empty(d, [count]);
      expect([d, address(t.storage) % 64n]).toEqual([d, 0n]);
      expect(t.storage.length).toBe(allocateStorage(t.dtype, count).length);
      expect(t.storage.every((v) => v === 0)).toBe(true);
      // The values round-trip through the view as through any storage.
      const values = Array.from({ length: 8 }, (_, i) => i % 2);
      expect(Array.from(Tensor.fromValues(d, [8], values).toValues())).toEqual(values);
    }
    // Small storage is allocated as it is.
    expect(Tensor.empty('f32', [16]).storage.byteOffset).toBe(0);
  });

  // The flags of the mapping that holds `at`, from /proc/self/smaps ('hg': advised as huge pages).
  const mappingFlags = (at: bigint): string[] => {
    let inside = false;
    for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
      if (range) inside = BigInt(`0x${range[1]}`) <= at && at < BigInt(`0x${range[2]}`);
      else if (inside && line.startsWith('VmFlags:')) return line.slice('VmFlags:'.length).trim().split(/\s+/);
    }
    throw new Error(`no mapping holds 0x${at.toString(16)}`);
  };
  const hugePages = fs.existsSync('/sys/kernel/mm/transparent_hugepage/enabled');

  (hugePages ? it : it.skip)('starts storage of 4 MiB and more on a 2 MiB boundary, advised as huge pages, zeroed and of its size', () => {
    placeStorage();
    const big = Tensor.empty('f32', [(5 << 20) / 4 + 3]);
    const start = address(big.storage);
    expect(start % BigInt(2 << 20)).toBe(0n);
    expect(big.storage.length).toBe((5 << 20) / 4 + 3);
    expect(big.storage.every((v) => v === 0)).toBe(true);
    // Its whole 2 MiB pages are advised; the last, partial one is not asked for.
    expect(mappingFlags(start)).toContain('hg');
    expect(mappingFlags(start + BigInt((4 << 20) - 1))).toContain('hg');
    expect(mappingFlags(start + BigInt(4 << 20))).not.toContain('hg');
    // Below 4 MiB storage is only on a line.
    const small = Tensor.empty('u8', [(4 << 20) - 1]);
    expect(address(small.storage) % 64n).toBe(0n);
    expect(mappingFlags(address(small.storage))).not.toContain('hg');
  });
});
