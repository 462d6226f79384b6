import fc from 'fast-check';
import {
  type Layout,
  blockedProduct,
  logicalProduct,
  makeLayout,
  parseLayout,
  rakedProduct,
  tiledProduct,
  zippedProduct,
} from '../../../compiler/layout/index.js';
import { domain, pow2InjectiveLayout, pow2TilerFor, reachedBy } from './arbitraries.js';

const L = parseLayout;

describe('product', () => {
  test.each([
    ['(2,2):(4,1)', '6:1', '((2,2),(2,3)):((4,1),(2,8))'],
    ['(2,2):(4,1)', '(4,2):(2,1)', '((2,2),(4,2)):((4,1),(8,2))'],
    ['(2,5):(5,1)', '(3,4):(1,3)', '((2,5),(3,4)):((5,1),(10,30))'],
  ])('logicalProduct(%s, %s) = %s', (a, b, expected) => {
    expect(String(logicalProduct(L(a), L(b)))).toBe(expected);
  });

  test('blocked and raked products pair like modes', () => {
    const tile = L('(2,5):(5,1)');
    const tiles = L('(3,4):(1,3)');
    expect(String(blockedProduct(tile, tiles))).toBe('(6,(5,4)):(5,(1,30))');
    expect(String(rakedProduct(tile, tiles))).toBe('((3,2),(4,5)):((10,5),(30,1))');
    // Ranks differ: the smaller one is padded with 1:0 modes.
    expect(String(blockedProduct(L('4:1'), L('(2,3):(1,2)')))).toBe('(8,3):(1,8)');
  });

  test('zipped and tiled products regroup the by-mode product', () => {
    const a = L('(2,5):(5,1)');
    // The tiler that reproduces the blocked product needs A's strides in it (why blockedProduct exists).
    const tiler = [L('3:5'), L('4:6')];
    expect(String(logicalProduct(a, tiler))).toBe('((2,3),(5,4)):((5,10),(1,30))');
    expect(String(zippedProduct(a, tiler))).toBe('((2,5),(3,4)):((5,1),(10,30))');
    expect(String(tiledProduct(a, tiler))).toBe('((2,5),3,4):((5,1),10,30)');
  });

  test('a product whose repetitions cannot be laid out is refused', () => {
    expect(() => logicalProduct(L('2:4'), L('3:2'))).toThrow(expect.objectContaining({ condition: 'shape-divisibility' }));
  });

  // Replaces "mode 0 of logicalProduct(A, B) is A", which held by construction: this checks where each
  // copy of A lands, so a wrong mode 0 or overlapping copies fail it.
  test('each column of mode 1 is A shifted, the shifts grow with B(j), and the copies are disjoint', () => {
    const smallPair = fc.tuple(pow2InjectiveLayout, pow2InjectiveLayout).filter(([a, b]) => a.size * b.size <= 512);
    fc.assert(
      fc.property(smallPair, ([a, b]) => {
        const p = logicalProduct(a, b);
        expect(p.mode(1).size).toBe(b.size);
        const shift = domain(b).map((j) => p.at([0, j]));
        const columns = domain(b).map((j) => domain(a).map((i) => p.at([i, j])));
        expect(columns).toEqual(shift.map((s) => domain(a).map((i) => a.at(i) + s)));
        const byB = domain(b).sort((x, y) => b.at(x) - b.at(y));
        expect(byB.slice(1).every((j, k) => shift[j]! > shift[byB[k]!]!)).toBe(true);
        const offsets = domain(p).map((i) => p.at(i));
        expect(new Set(offsets).size).toBe(offsets.length);
      }),
    );
  });

  test('blocked and raked products of a rank-1 B keep all its elements (the repro of the review)', () => {
    expect(String(blockedProduct(L('2:2'), L('8:1')))).toBe('((2,2,4)):((2,1,4))');
    expect(String(rakedProduct(L('2:2'), L('8:1')))).toBe('((2,4,2)):((1,4,2))');
    expect(blockedProduct(L('2:2'), L('8:1')).size).toBe(16);
    expect(String(blockedProduct(L('(2,2):(1,2)'), L('3:1')))).toBe('((2,3),2):((1,4),2)');
  });

  test('blocked and raked products: rank max(rank A, rank B), size(A)·size(B) elements, at distinct offsets', () => {
    const smallPair = fc.tuple(pow2InjectiveLayout, pow2InjectiveLayout).filter(([a, b]) => a.size * b.size <= 512);
    fc.assert(
      fc.property(smallPair, ([a, b]) => {
        for (const p of [blockedProduct(a, b), rakedProduct(a, b)]) {
          expect(p.rank).toBe(Math.max(a.rank, b.rank));
          expect(p.size).toBe(a.size * b.size);
          const offsets = domain(p).map((i) => p.at(i));
          expect(new Set(offsets).size).toBe(offsets.length);
        }
      }),
    );
  });

  test('a nested tiler multiplies a mode by its sub-modes: mode 0 of zippedProduct is A (the repro of the review)', () => {
    const a = L('((4,4),8):((1,4),16)');
    expect(zippedProduct(a, [[2, 2], 4]).mode(0).equals(a)).toBe(true);
    expect(String(zippedProduct(a, [[2, 2], 4]))).toBe('(((4,4),8),((2,2),4)):(((1,4),16),((4,1),1))');
    expect(String(tiledProduct(a, [[2, 2], 4]))).toBe('(((4,4),8),(2,2),4):(((1,4),16),(4,1),1)');
  });

  test('tuple and nested tilers: mode 0 of zippedProduct is the modes of A the tiler reaches', () => {
    fc.assert(
      fc.property(pow2InjectiveLayout.chain((a) => fc.tuple(fc.constant(a), pow2TilerFor(a))), ([a, tiler]) => {
        const z = zippedProduct(a, tiler);
        expect(z.mode(0).equals(reachedBy(a, tiler))).toBe(true);
        expect(tiledProduct(a, tiler).equals(makeLayout(z.mode(0), ...z.mode(1).modes()))).toBe(true);
        expect(z.size).toBe(logicalProduct(a, tiler).size);
      }),
    );
  });

  test('arguments that are not layouts are refused', () => {
    expect(() => blockedProduct(L('2:1'), 2 as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
    expect(() => logicalProduct(L('2:1'), '2' as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
  });

  test('blockedProduct places whole copies of A: copy k of A is A shifted', () => {
    const a = L('(2,2):(1,2)');
    const p = blockedProduct(a, L('(2,3):(3,1)'));
    // Element (i, j) of the product is element (i % 2, j % 2) of A plus the offset of its block.
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 6; j++) {
        const block = p.at([i - (i % 2), j - (j % 2)]);
        expect(p.at([i, j])).toBe(block + a.at([i % 2, j % 2]));
      }
    }
  });
});
