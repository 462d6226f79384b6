/**
 * Values a loop carries on the C backend (backends/c/emit.ts: forLoop, copyYield,
 * accumulatesInPlace). A dot that updates the carried accumulator writes the loop's own array, so a
 * K loop copies nothing per step; yields that swap carried values, keep one unchanged, or read the
 * accumulator besides the dot must still give the interpreter's values. Each case runs on fresh
 * random inputs with poisoned outputs, in the machine's own build and in one without vector
 * extensions (the portable dot blocks).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../../../backends/c/index.js';
import type { Kernel } from '../../../compiler/ir/ir.js';
import { arange, dot, f32, forRange, i32, input, kernel, load, output, store, zeros } from '../../../dsl/index.js';
import { freshSeed, randomTensor, rng } from '../../../examples/check.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { DEFAULT_CFLAGS } from '../../../runtime/cpu/toolchain.js';
import { expectSame, poisoned, runBoth } from '../differential.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const testC = testWithCompiler('the C backend loop-carried value tests');
const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-loop-carried-')));
const builds = {
  native: device('cpu', { cache }),
  'without vector extensions': device('cpu', { cache, flags: [...DEFAULT_CFLAGS, '-DTSKC_NO_VECTOR_EXTENSIONS'] }),
};

const [M, K, N, BK] = [12, 40, 16, 8];

/**
 * y = Σ over K steps of a[:, step] · b[step, :] for a [M, K], b [K, N]. `body` gets the step's tiles
 * and the carried values and returns what the loop yields; the first result is stored to y, the
 * second (when there is one) to z.
 */
function stepped(name: string, carried: number, body: (x: ReturnType<typeof load>, w: ReturnType<typeof load>, c: ReturnType<typeof zeros>[]) => ReturnType<typeof zeros>[]) {
  return kernel(name, { a: input(f32, [M, K]), b: input(f32, [K, N]), y: output(f32, [M, N]), z: output(f32, [M, N]) }, ({ a, b, y, z }) => {
    const [rows, cols] = [arange(M).expandDims(1), arange(N).expandDims(0)];
    const init = Array.from({ length: carried }, (_, i) => (i === 0 ? zeros([M, N], f32) : load(a, [rows, cols.mul(0).add(i)]).mul(zeros([M, N], f32).add(1))));
    const results = forRange(0, K, BK, init, (k0, c) => {
      const ks = k0.add(arange(BK));
      return body(load(a, [rows, ks.expandDims(0)]), load(b, [ks.expandDims(1), cols]), c);
    });
    store(y, [rows, cols], results[0]!);
    store(z, [rows, cols], results[1] ?? results[0]!);
  }, { grid: () => [1] });
}

/** Integer dot: y = Σ a·b in i32, wrapping, with the accumulator carried. */
const integerDot = kernel('int_steps', { a: input(i32, [M, K]), b: input(i32, [K, N]), y: output(i32, [M, N]) }, ({ a, b, y }) => {
  const [rows, cols] = [arange(M).expandDims(1), arange(N).expandDims(0)];
  const [acc] = forRange(0, K, BK, [zeros([M, N], i32)], (k0, [c]) => {
    const ks = k0.add(arange(BK));
    return [dot(load(a, [rows, ks.expandDims(0)]), load(b, [ks.expandDims(1), cols]), c!)];
  });
  store(y, [rows, cols], acc!);
}, { grid: () => [1] });

/**
 * Carried c [M, N] and d [M·N], from a: the body yields views of carried values, which the C backend
 * names as pointers into the carried arrays. `yields` gets c and d and returns the new c and d.
 */
function reshaped(name: string, yields: (c: ReturnType<typeof zeros>, d: ReturnType<typeof zeros>) => ReturnType<typeof zeros>[]) {
  return kernel(name, { a: input(f32, [M, K]), b: input(f32, [K, N]), y: output(f32, [M, N]), z: output(f32, [M * N]) }, ({ a, y, z }) => {
    const [rows, cols] = [arange(M).expandDims(1), arange(N).expandDims(0)];
    const first = load(a, [rows, cols]);
    const [c, d] = forRange(0, 3, 1, [first, first.mul(2).reshape([M * N])], (_, [c, d]) => yields(c!, d!));
    store(y, [rows, cols], c!);
    store(z, [arange(M * N)], d!);
  }, { grid: () => [1] });
}

// [what, copies into the loop's arrays per step, kernel]
const cases: [string, number, Kernel][] = [
  // The accumulator is written in place: no per-step copy.
  ['a dot accumulating in place', 0, stepped('in_place', 1, (x, w, [c]) => [dot(x, w, c!)]).build()],
  ['an integer dot accumulating in place', 0, integerDot.build()],
  // The accumulator is read again after the dot: the dot must not overwrite it.
  ['an accumulator also read after the dot', 1, stepped('read_after', 1, (x, w, [c]) => [dot(x, w, c!).add(c!)]).build()],
  // The dot's accumulator is read again after it, so the dot must not overwrite it.
  ['an accumulator read after the dot that updates it', 2, stepped('reread', 2, (x, w, [c]) => { const s = dot(x, w, c!); return [s, c!.add(s)]; }).build()],
  // Two accumulators swapped at each step, each dot reading the other's previous value: in either
  // order, one slot reads an array that another slot's copy writes.
  ['two accumulators swapped', 2, stepped('swapped', 2, (x, w, [c, d]) => [d!, dot(x, w, c!)]).build()],
  ['two accumulators swapped the other way', 2, stepped('swapped_back', 2, (x, w, [c, d]) => [dot(x, w, d!), c!]).build()],
  // One in place, the other yielded unchanged.
  ['an accumulator beside one carried unchanged', 0, stepped('unchanged', 2, (x, w, [c, d]) => [dot(x, w, c!), d!]).build()],
  // The same dot yielded twice: the second slot copies it.
  ['one dot yielded in two slots', 1, stepped('twice', 2, (x, w, [c]) => { const s = dot(x, w, c!); return [s, s]; }).build()],
  // A view of a carried value read after another slot's copy overwrote its array: through a temporary.
  ['a view of the carried value another slot updates', 2, reshaped('view_after', (c) => [c.add(1), c.reshape([M * N])]).build()],
  ['two carried values swapped through views', 2, reshaped('view_swap', (c, d) => [d.reshape([M, N]), c.reshape([M * N])]).build()],
  // A view of a carried value yielded in its own slot is already there: no copy (memcpy onto itself is undefined).
  ['a carried value yielded as a view of itself', 1, reshaped('view_same', (c, d) => [c.add(1), d.reshape([M * N])]).build()],
];

/** Integers in [-2^20, 2^20): their dot products wrap past i32's range. */
function integers(r: () => number, shape: number[]) {
  const t = randomTensor(r, shape, 0, 1, i32);
  t.data.forEach((_, i) => (t.data[i] = Math.floor(r() * 2 ** 21) - 2 ** 20));
  return t;
}

describe('loop-carried values on the C backend', () => {
  test.each(cases)('%s: %i copies into the loop\'s arrays per step', (_, copies, built) => {
    // The loop body starts at its induction variable's declaration; the carried values' first
    // copies come before it, and nothing after the loop copies.
    const source = emitC(built).source;
    const body = source.slice(source.indexOf('for (int64_t i'));
    expect(body.match(/memcpy\(v\d+, [vy]\d+(_\d+)?, \d+\)/g) ?? []).toHaveLength(copies);
  });

  testC.each(cases)('%s: every build gives the interpreter values', async (_, _copies, built) => {
    const seed = freshSeed();
    const r = rng(seed);
    const integer = built.name === 'int_steps';
    const d = integer ? i32 : f32;
    const args = integer
      ? { a: integers(r, [M, K]), b: integers(r, [K, N]), y: poisoned(i32, [M, N]) }
      : { a: randomTensor(r, [M, K]), b: randomTensor(r, [K, N]), y: poisoned(f32, [M, N]), z: poisoned(f32, built.name.startsWith('view') ? [M * N] : [M, N]) };
    for (const [name, dev] of Object.entries(builds)) {
      const { got, want } = await runBoth(dev, built, args);
      for (const out of Object.keys(want)) expectSame(got[out]!, want[out]!, false, `${built.name} ${out} ${name} (seed ${seed})`, d);
    }
  });
});
