/**
 * Transposes of 32-bit tiles on the C backend (backends/c/transpose.ts): a permute that swaps a
 * tile's last two dims copies it in 8 x 8 blocks, with AVX shuffles where the compiler has AVX. Tiles
 * whose sides are not multiples of 8 take the element-by-element blocks at their edges. Each case runs
 * on fresh random inputs with poisoned outputs, in the machine's own build and in one without vector
 * extensions, against the interpreter.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import { swapsLastTwo } from '../../../backends/c/transpose.js';
import type { Dtype } from '../../../compiler/ir/dtype.js';
import { arange, f32, i32, input, kernel, load, output, store, u32 } from '../../../dsl/index.js';
import { freshSeed, randomTensor, rng } from '../../../examples/check.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { DEFAULT_CFLAGS } from '../../../runtime/cpu/toolchain.js';
import { expectSame, poisoned, runBoth } from '../differential.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const testC = testWithCompiler('the C backend transpose tests');
const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-transpose-')));
const builds = {
  native: device('cpu', { cache }),
  'without vector extensions': device('cpu', { cache, flags: [...DEFAULT_CFLAGS, '-DTSKC_NO_VECTOR_EXTENSIONS'] }),
};

/** The coordinates of each element of `shape` as tiles that broadcast to it, one per dim. */
function coordinates(shape: readonly number[]) {
  return shape.map((n, d) => shape.reduce((t, _, e) => (e === d ? t : t.expandDims(e)), arange(n)));
}

/**
 * y = x permuted by `perm`, and z = y + 1: two users, so the permuted tile is copied into an array
 * once rather than computed at each use.
 */
function permuted(d: Dtype, shape: readonly number[], perm: readonly number[]) {
  const to = perm.map((p) => shape[p]!);
  return kernel('permuted', { x: input(d, [...shape]), y: output(d, to), z: output(d, to) }, ({ x, y, z }) => {
    const t = load(x, coordinates(shape)).permute(...perm);
    store(y, coordinates(to), t);
    store(z, coordinates(to), t.add(1));
  }, { grid: () => [1] });
}

// [dtype, shape, perm, copied by tskc_transpose32]: sides that are multiples of 8, sides that are
// not, batches; a single row is read in place from its tensor (streamedRow), so there is no array
// to copy and each element is read where it is used.
const cases: [Dtype, number[], number[], boolean][] = [
  [f32, [16, 24], [1, 0], true],
  [f32, [13, 21], [1, 0], true],
  [i32, [9, 8], [1, 0], true],
  [u32, [2, 19], [1, 0], true],
  [f32, [3, 10, 17], [0, 2, 1], true],
  [i32, [2, 8, 16], [0, 2, 1], true],
  [u32, [1, 19], [1, 0], false],
];
const titled = cases.map(([d, shape, perm, copied]) => [d.name, shape, perm, copied, d] as const);

describe('transposes on the C backend', () => {
  test('swapsLastTwo says which permutations swap the last two dims only', () => {
    expect([[1, 0], [0, 2, 1], [0, 1, 3, 2]].every(swapsLastTwo)).toBe(true);
    expect([[0, 1], [1, 0, 2], [2, 1, 0], [0], []].some(swapsLastTwo)).toBe(false);
  });

  test.each(titled)('%s %j by %j is copied by tskc_transpose32: %s', (_, shape, perm, copied, d) => {
    expect(/tskc_transpose32\(v\d+ \+ t \*/.test(emitC(permuted(d, shape, perm).build()).source)).toBe(copied);
  });

  testC.each(titled)('%s %j by %j: every build gives the interpreter values', async (_, shape, perm, _copied, d) => {
    const seed = freshSeed();
    const r = rng(seed);
    const built = permuted(d, shape, perm).build();
    const to = perm.map((p) => shape[p]!);
    const x = randomTensor(r, shape, d === f32 ? -100 : 0, 100, d);
    if (d !== f32) x.data.forEach((v, i) => (x.data[i] = Math.floor(v * 1e6)));
    for (const [name, dev] of Object.entries(builds)) {
      const { got, want } = await runBoth(dev, built, { x, y: poisoned(d, to), z: poisoned(d, to) });
      for (const out of ['y', 'z']) expectSame(got[out]!, want[out]!, false, `${d.name} ${shape} ${out} ${name} (seed ${seed})`, d);
    }
  });
});
