import fc from 'fast-check';
import {
  Layout,
  type Tiler,
  coalesce,
  composition,
  flattenLayout,
  flatDivide,
  functionallyEqual,
  logicalDivide,
  makeLayout,
  parseLayout,
  tiledDivide,
  zippedDivide,
} from '../../../compiler/layout/index.js';
import { domain, injectiveLayout, pow2InjectiveLayout, pow2Layout, pow2TilerFor, reachedBy } from './arbitraries.js';

const L = parseLayout;

/**
 * A tile of A that, with its repetitions, covers A's domain exactly: the extents of coalesce(A) split
 * into primes, grouped into modes with compact strides, of which some are kept, in a random order.
 */
function tileOf(a: Layout): fc.Arbitrary<Layout> {
  const primes: number[] = [];
  for (const m of flattenLayout(coalesce(a)).modes()) {
    for (let p = 2, n = m.shape as number; n > 1; p++) for (; n % p === 0; n /= p) primes.push(p);
  }
  if (primes.length === 0) return fc.constant(L('1:0'));
  return fc
    .tuple(
      fc.array(fc.boolean(), { minLength: primes.length, maxLength: primes.length }),
      fc.array(fc.boolean(), { minLength: primes.length, maxLength: primes.length }),
      fc.nat(),
    )
    .map(([joins, keeps, seed]) => {
      const modes: { shape: number; stride: number }[] = [];
      let covered = 1;
      primes.forEach((p, i) => {
        const last = modes[modes.length - 1];
        if (i > 0 && joins[i] && last) last.shape *= p;
        else modes.push({ shape: p, stride: covered });
        covered *= p;
      });
      const kept = modes.filter((_, i) => keeps[i]);
      if (kept.length === 0) kept.push(modes[0]!);
      // Rotate the kept modes so that the tile's own order differs from memory order.
      const r = seed % kept.length;
      const order = [...kept.slice(r), ...kept.slice(0, r)];
      return new Layout(order.map((m) => m.shape), order.map((m) => m.stride));
    });
}

describe('divide', () => {
  test('logicalDivide((4,2,3):(2,1,8), 4:2) = ((2,2),(2,3)):((4,1),(2,8))', () => {
    expect(String(logicalDivide(L('(4,2,3):(2,1,8)'), L('4:2')))).toBe('((2,2),(2,3)):((4,1),(2,8))');
  });

  const a = L('(9,(4,8)):(59,(13,1))');
  const tiler: Tiler = [L('3:3'), L('(2,4):(1,8)')];

  test.each([
    [logicalDivide, '((3,3),((2,4),(2,2))):((177,59),((13,2),(26,1)))'],
    [zippedDivide, '((3,(2,4)),(3,(2,2))):((177,(13,2)),(59,(26,1)))'],
    [tiledDivide, '((3,(2,4)),3,(2,2)):((177,(13,2)),59,(26,1))'],
    [flatDivide, '(3,(2,4),3,(2,2)):(177,(13,2),59,(26,1))'],
  ])('%p of (9,(4,8)):(59,(13,1)) by <3:3, (2,4):(1,8)>', (divide, expected) => {
    expect(String(divide(a, tiler))).toBe(expected);
  });

  test('modes past the tiler are rest modes', () => {
    const b = L('(8,6,5):(1,8,48)');
    expect(String(zippedDivide(b, [2, 3]))).toBe('((2,3),(4,2,5)):((1,8),(2,24,48))');
    expect(String(tiledDivide(b, [2, 3]))).toBe('((2,3),4,2,5):((1,8),2,24,48)');
    expect(String(flatDivide(b, [2, 3]))).toBe('(2,3,4,2,5):(1,8,2,24,48)');
  });

  test('mode 0 of zippedDivide(A, B) equals composition(A, B)', () => {
    fc.assert(
      fc.property(pow2Layout, pow2InjectiveLayout, (a, b) => {
        if (b.cosize > a.size) return;
        expect(zippedDivide(a, b).mode(0).equals(composition(a, b))).toBe(true);
      }),
    );
    expect(zippedDivide(a, tiler).mode(0).equals(composition(a, tiler))).toBe(true);
  });

  test('permutes the domain of A when B and its repetitions tile [0, size(A)) exactly', () => {
    fc.assert(
      fc.property(injectiveLayout.chain((a) => fc.tuple(fc.constant(a), tileOf(a))), ([a, b]) => {
        const d = logicalDivide(a, b);
        const offsets = (l: Layout) => domain(l).map((i) => l.at(i)).sort((x, y) => x - y);
        expect(offsets(d)).toEqual(offsets(a));
        expect(d.mode(0).size).toBe(b.size);
      }),
    );
  });

  test('a nested tiler divides a mode by its sub-modes (the repro of the review)', () => {
    const a = L('((4,4),8):((1,4),16)');
    const tiler: Tiler = [[2, 2], 4];
    expect(String(composition(a, tiler))).toBe('((2,2),4):((1,4),16)');
    expect(String(zippedDivide(a, tiler))).toBe('(((2,2),4),((2,2),2)):(((1,4),16),((2,8),64))');
    expect(String(tiledDivide(a, tiler))).toBe('(((2,2),4),(2,2),2):(((1,4),16),(2,8),64)');
    expect(String(flatDivide(a, tiler))).toBe('((2,2),4,(2,2),2):((1,4),16,(2,8),64)');
    expect(zippedDivide(a, tiler).mode(0).equals(composition(a, tiler))).toBe(true);
    // Sub-modes past a sub-tiler's length belong to the rest, as modes past the tiler do.
    expect(String(zippedDivide(a, [[2], 4]))).toBe('(((2),4),((2,4),2)):(((1),16),((2,4),64))');
    expect(String(zippedDivide(a, [[2, 2]]))).toBe('(((2,2)),((2,2),8)):(((1,4)),((2,8),16))');
  });

  test('flatDivide by a single layout flattens the tile modes too, like CuTe flat_divide', () => {
    const a = L('(4,2,3):(2,1,8)');
    expect(String(logicalDivide(a, L('4:2')))).toBe('((2,2),(2,3)):((4,1),(2,8))');
    expect(String(flatDivide(a, L('4:2')))).toBe('(2,2,2,3):(4,1,2,8)');
    expect(String(tiledDivide(a, L('4:2')))).toBe('((2,2),2,3):((4,1),2,8)');
  });

  test('tuple and nested tilers: mode 0 of zippedDivide is composition(A, tiler) on the modes the tiler reaches', () => {
    fc.assert(
      fc.property(pow2Layout.chain((a) => fc.tuple(fc.constant(a), pow2TilerFor(a))), ([a, tiler]) => {
        const z = zippedDivide(a, tiler);
        const composed = composition(a, tiler);
        expect(z.mode(0).equals(reachedBy(composed, tiler))).toBe(true);
        if (reachedBy(composed, tiler).equals(composed)) expect(z.mode(0).equals(composed)).toBe(true);
        // tiled and flat divides regroup the zipped one; all of them hold the elements of logicalDivide.
        expect(tiledDivide(a, tiler).equals(makeLayout(z.mode(0), ...z.mode(1).modes()))).toBe(true);
        expect(flatDivide(a, tiler).equals(makeLayout(...z.mode(0).modes(), ...z.mode(1).modes()))).toBe(true);
        const d = logicalDivide(a, tiler);
        expect(z.size).toBe(d.size);
        if (d.size <= 1024) {
          const offsets = (l: Layout) => domain(l).map((i) => l.at(i)).sort((x, y) => x - y);
          expect(offsets(z)).toEqual(offsets(d));
        }
      }),
    );
  });

  test('a tiler that A cannot be divided by exactly, on A read past its size, is refused', () => {
    // A's trailing 1:0 says that A stays at 0 past its size: the tiles of 4 cannot continue it.
    expect(() => logicalDivide(L('(6,1):(1,0)'), 4)).toThrow(expect.objectContaining({ condition: 'stride-divisibility' }));
    expect(String(logicalDivide(L('6:1'), 4))).toBe('(4,2):(1,4)');
  });

  test('arguments that are not layouts or tilers are refused', () => {
    const bad: unknown[] = ['2', 0, 2.5, [], [2, 'x'], null, { shape: 2 }];
    for (const t of bad) {
      expect(() => logicalDivide(L('8:1'), t as Tiler)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
      expect(() => zippedDivide(L('8:1'), t as Tiler)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
    }
    expect(() => flatDivide('8:1' as unknown as Layout, 2)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
  });

  test('dividing by the whole layout leaves one tile', () => {
    const b = L('(4,8):(8,1)');
    const d = logicalDivide(b, b.size);
    expect(functionallyEqual(d.mode(0), b)).toBe(true);
    expect(d.mode(1).size).toBe(1);
  });
});
