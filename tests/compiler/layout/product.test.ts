import fc from 'fast-check';
import {
  blockedProduct,
  logicalProduct,
  parseLayout,
  rakedProduct,
  tiledProduct,
  zippedProduct,
} from '../../../compiler/layout/index.js';
import { domain, pow2InjectiveLayout } from './arbitraries.js';

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

  test('mode 0 of logicalProduct(A, B) is A; mode 1 has the shape of B; offsets are distinct', () => {
    fc.assert(
      fc.property(pow2InjectiveLayout, pow2InjectiveLayout, (a, b) => {
        const p = logicalProduct(a, b);
        expect(p.mode(0).equals(a)).toBe(true);
        expect(p.mode(1).size).toBe(b.size);
        const offsets = domain(p).map((i) => p.at(i));
        expect(new Set(offsets).size).toBe(offsets.length);
      }),
    );
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
